{#
    Every data-quality rule for a day's figures, defined once. From this list come
    the conditions dbt runs (int_daily_metrics_validated flags each hard rule, and
    quarantine_daily_metrics lists the rows that break one) and the catalogue people
    read (the quality_rules model). A rule is:
      code         stable name, used in `failed_rules` and `quarantine_daily_metrics`
      severity     `quarantine`: a row breaking it is held back from the marts;
                   `warn`: reported by a warn-level test, kept in every total
      description  what the rule means and why it exists
      fails_when   quarantine rules only: SQL condition, true when the row FAILS,
                   written against int_daily_metrics_validated's columns
#}
{% macro daily_metric_rules() %}
    {{ return([
        {
            'code': 'date_missing_or_unreadable',
            'severity': 'quarantine',
            'description': 'The Date cell is empty or could not be read as a calendar date,'
                ~ ' so the row cannot be placed on a day.',
            'fails_when': 'date is null',
        },
        {
            'code': 'date_out_of_range',
            'severity': 'quarantine',
            'description': 'The date is before the 3-1-1 service began (var first_service_date)'
                ~ ' or after today (UTC): a mistyped date or a wrong Excel serial.',
            'fails_when': "date < date '" ~ var('first_service_date') ~ "' or date > " ~ current_date_utc(),
        },
        {
            'code': 'duplicate_date_in_extract',
            'severity': 'quarantine',
            'description': 'The same date appears more than once in one extract with different'
                ~ ' figures; the extract does not say which is right, so all of its rows for'
                ~ ' that date are held back. Identical repeated rows count once.',
            'fails_when': 'date is not null and versions_of_date_in_extract > 1',
        },
        {
            'code': 'value_missing_or_unreadable',
            'severity': 'quarantine',
            'description': 'A required figure (calls offered, handled or abandoned, service'
                ~ ' level, average speed of answer) is empty or could not be read;'
                ~ ' load_issues quotes the cell.',
            'fails_when': 'calls_offered is null or calls_handled is null or calls_abandoned is null'
                ~ ' or service_level is null or avg_speed_of_answer_seconds is null',
        },
        {
            'code': 'negative_count',
            'severity': 'quarantine',
            'description': 'A call count is below zero.',
            'fails_when': 'calls_offered < 0 or calls_handled < 0 or calls_abandoned < 0',
        },
        {
            'code': 'handled_exceeds_offered',
            'severity': 'quarantine',
            'description': "More calls handled than offered: impossible for a day's figures.",
            'fails_when': 'calls_handled > calls_offered',
        },
        {
            'code': 'abandoned_exceeds_offered',
            'severity': 'quarantine',
            'description': "More calls abandoned than offered: impossible for a day's figures.",
            'fails_when': 'calls_abandoned > calls_offered',
        },
        {
            'code': 'service_level_out_of_range',
            'severity': 'quarantine',
            'description': 'Service level is a share between 0 and 1; a value outside it'
                ~ ' (for example 85 for 85%) cannot be used as is.',
            'fails_when': 'service_level < 0 or service_level > 1',
        },
        {
            'code': 'negative_speed_of_answer',
            'severity': 'quarantine',
            'description': 'Average speed of answer is a number of seconds and cannot be negative.',
            'fails_when': 'avg_speed_of_answer_seconds < 0',
        },
        {
            'code': 'handled_plus_abandoned_exceeds_offered',
            'severity': 'warn',
            'description': 'Handled plus abandoned is above offered by a few calls. Real days in'
                ~ " the City's data; kept in every total, flagged in"
                ~ ' fct_contact_centre_daily.is_over_accounted and by a warn-level test.',
        },
        {
            'code': 'missing_calendar_day',
            'severity': 'warn',
            'description': 'A day between the first and last reported day has no row in the marts'
                ~ ' (not in any extract, or quarantined). Reported by a warn-level test.',
        },
        {
            'code': 'conflicting_extracts',
            'severity': 'warn',
            'description': 'Two extracts give different figures for the same day; the most'
                ~ ' recently ingested wins and the difference is recorded in'
                ~ ' conflicts_daily_metrics.',
        },
    ]) }}
{% endmacro %}

{#- The rules a row is quarantined for (severity `quarantine`), each with its condition. #}
{% macro daily_metric_hard_rules() %}
    {%- for rule in daily_metric_rules() %}
        {%- if (rule.severity == 'quarantine') != (rule.fails_when is defined) %}
            {{ exceptions.raise_compiler_error(
                "daily_metric_rules: rule " ~ rule.code ~ " (severity " ~ rule.severity
                ~ ") must have a fails_when condition if and only if its severity is quarantine"
            ) }}
        {%- endif %}
    {%- endfor %}
    {{ return(daily_metric_rules() | selectattr('severity', 'equalto', 'quarantine') | list) }}
{% endmacro %}
