{#
    Every data-quality rule for a day's figures, defined once. From this list come
    the conditions dbt runs (int_daily_metrics_validated flags each rule of a source
    row, int_daily_metrics_merged each rule of a merged day, and quarantine_daily_metrics
    lists what breaks one) and the catalogue people read (the quality_rules model).
    A rule is:
      code         stable name, used in `failed_rules` and `quarantine_daily_metrics`
      severity     `quarantine`: what breaks it is held back from the marts (the data is
                   wrong); `hold`: the day is held back until the rest of it lands (the
                   data is not wrong, only incomplete); `warn`: reported by a warn-level
                   test, kept in every total
      scope        `source_row`: checked on each row of each extract, on the figures the
                   row carries; `day`: checked on the merged day, whose measures may come
                   from different extracts (int_daily_metrics_merged)
      description  what the rule means and why it exists
      fails_when   quarantine and hold rules only: SQL condition, true when the row or
                   day FAILS, written against int_daily_metrics_validated's columns
                   (scope source_row) or int_daily_metrics_merged's (scope day)
      parts        day rules only: the measures whose sources the quarantine names when
                   the day fails the rule
#}
{% macro daily_metric_rules() %}
    {%- set measures = daily_metric_measures() %}
    {%- set carried_value_missing = [] %}
    {%- for measure in measures %}
        {%- do carried_value_missing.append(
            '(carries_' ~ measure.name ~ ' and ' ~ measure.name ~ ' is null)'
        ) %}
    {%- endfor %}
    {%- set day_measure_missing = [] %}
    {%- for measure in measures if measure.required_for_day %}
        {%- do day_measure_missing.append(measure.name ~ ' is null') %}
    {%- endfor %}
    {{ return([
        {
            'code': 'date_missing_or_unreadable',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'The Date cell is empty or could not be read as a calendar date,'
                ~ ' so the row cannot be placed on a day.',
            'fails_when': 'date is null',
        },
        {
            'code': 'date_out_of_range',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'The date is before the 3-1-1 service began (var first_service_date)'
                ~ ' or after today (UTC): a mistyped date or a wrong Excel serial.',
            'fails_when': "date < date '" ~ var('first_service_date') ~ "' or date > " ~ current_date_utc(),
        },
        {
            'code': 'duplicate_date_in_extract',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'The same date appears more than once in one extract with different'
                ~ ' values for a measure; the extract does not say which is right, so all of'
                ~ ' its rows for that date that carry the measure are held back. Identical'
                ~ ' repeated rows count once, and sheets that carry different measures of'
                ~ ' the same day complement each other.',
            'fails_when': 'date is not null and versions_of_date_in_extract > 1',
        },
        {
            'code': 'value_missing_or_unreadable',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'A figure the extract carries (its sheet has the column: calls'
                ~ ' offered, handled or abandoned, service level, average speed of answer)'
                ~ ' is empty or could not be read; load_issues quotes the cell. A measure'
                ~ ' the extract does not carry is not missing: another extract supplies it.',
            'fails_when': carried_value_missing | join(' or '),
        },
        {
            'code': 'negative_count',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'A call count is below zero.',
            'fails_when': 'calls_offered < 0 or calls_handled < 0 or calls_abandoned < 0',
        },
        {
            'code': 'count_implausibly_large',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'A call count is above var max_daily_calls ('
                ~ var('max_daily_calls') ~ ' calls in one day, far beyond any day of the'
                ~ " City's contact centre): a mistyped or corrupted figure. Held back so that"
                ~ ' it neither distorts a total nor overflows the 64-bit sums of the marts.',
            'fails_when': 'calls_offered > ' ~ var('max_daily_calls')
                ~ ' or calls_handled > ' ~ var('max_daily_calls')
                ~ ' or calls_abandoned > ' ~ var('max_daily_calls'),
        },
        {
            'code': 'service_level_out_of_range',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'Service level is a share between 0 and 1; a value outside it'
                ~ ' (for example 85 for 85%) cannot be used as is.',
            'fails_when': 'service_level < 0 or service_level > 1',
        },
        {
            'code': 'negative_speed_of_answer',
            'severity': 'quarantine',
            'scope': 'source_row',
            'description': 'Average speed of answer is a number of seconds and cannot be negative.',
            'fails_when': 'avg_speed_of_answer_seconds < 0',
        },
        {
            'code': 'day_incomplete',
            'severity': 'hold',
            'scope': 'day',
            'description': 'The day has some figures but not calls offered, handled and'
                ~ ' abandoned: an extract that carries the missing measures (for example'
                ~ ' callsHandled beside callsGeneral) has not landed yet, or its row for the'
                ~ ' day was quarantined. The day is held back until the missing part lands,'
                ~ ' then enters the marts. Reported by a warn-level test.',
            'fails_when': day_measure_missing | join(' or '),
            'parts': measures | map(attribute='name') | list,
        },
        {
            'code': 'handled_exceeds_offered',
            'severity': 'quarantine',
            'scope': 'day',
            'description': "More calls handled than offered: impossible for a day's figures."
                ~ ' Checked on the merged day, whichever extracts the two figures come from.',
            'fails_when': 'calls_handled > calls_offered',
            'parts': ['calls_offered', 'calls_handled'],
        },
        {
            'code': 'abandoned_exceeds_offered',
            'severity': 'quarantine',
            'scope': 'day',
            'description': "More calls abandoned than offered: impossible for a day's figures."
                ~ ' Checked on the merged day, whichever extracts the two figures come from.',
            'fails_when': 'calls_abandoned > calls_offered',
            'parts': ['calls_offered', 'calls_abandoned'],
        },
        {
            'code': 'handled_plus_abandoned_exceeds_offered',
            'severity': 'warn',
            'scope': 'day',
            'description': 'Handled plus abandoned is above offered by a few calls. Real days in'
                ~ " the City's data; kept in every total, flagged in"
                ~ ' fct_contact_centre_daily.is_over_accounted and by a warn-level test.',
        },
        {
            'code': 'service_measure_not_reported',
            'severity': 'warn',
            'scope': 'day',
            'description': 'No extract gives the day a service level or an average speed of'
                ~ ' answer. The day is in the marts with those measures null, and the'
                ~ " periods' weighted service level and speed of answer leave it out."
                ~ ' Reported by a warn-level test.',
        },
        {
            'code': 'missing_calendar_day',
            'severity': 'warn',
            'scope': 'day',
            'description': 'A day between the first and last reported day has no row in the marts'
                ~ ' (not in any extract, quarantined or incomplete). Reported by a warn-level'
                ~ ' test.',
        },
        {
            'code': 'conflicting_extracts',
            'severity': 'warn',
            'scope': 'source_row',
            'description': 'Two extracts give different values of a measure for the same day;'
                ~ ' the first extract in precedence order (int_extract_precedence: a'
                ~ ' superseding one, then the one reaching the later date, then the later'
                ~ ' ingested) wins, the difference is recorded in conflicts_daily_metrics and'
                ~ ' assert_no_day_has_disagreeing_extracts warns of it.',
        },
    ]) }}
{% endmacro %}

{#-
    The rules that hold a row or a day back from the marts (severity `quarantine` or
    `hold`), each with its condition; with `scope`, only that scope's. Fails compilation
    if a rule's definition is inconsistent.
#}
{% macro daily_metric_hard_rules(scope=none) %}
    {%- set measure_names = daily_metric_measures() | map(attribute='name') | list %}
    {%- for rule in daily_metric_rules() %}
        {%- set holds_back = rule.severity in ['quarantine', 'hold'] %}
        {%- if rule.severity not in ['quarantine', 'hold', 'warn'] %}
            {{ exceptions.raise_compiler_error(
                "daily_metric_rules: rule " ~ rule.code ~ " has an unknown severity " ~ rule.severity
            ) }}
        {%- endif %}
        {%- if rule.scope not in ['source_row', 'day'] %}
            {{ exceptions.raise_compiler_error(
                "daily_metric_rules: rule " ~ rule.code ~ " must have scope source_row or day"
            ) }}
        {%- endif %}
        {%- if holds_back != (rule.fails_when is defined) %}
            {{ exceptions.raise_compiler_error(
                "daily_metric_rules: rule " ~ rule.code ~ " (severity " ~ rule.severity
                ~ ") must have a fails_when condition if and only if its severity is"
                ~ " quarantine or hold"
            ) }}
        {%- endif %}
        {%- if holds_back and (rule.scope == 'day') != (rule.parts is defined) %}
            {{ exceptions.raise_compiler_error(
                "daily_metric_rules: rule " ~ rule.code ~ " must list its parts (measures)"
                ~ " if and only if it is a day rule that holds the day back"
            ) }}
        {%- endif %}
        {%- for part in rule.get('parts', []) if part not in measure_names %}
            {{ exceptions.raise_compiler_error(
                "daily_metric_rules: rule " ~ rule.code ~ " names an unknown measure " ~ part
            ) }}
        {%- endfor %}
    {%- endfor %}
    {%- set hard = daily_metric_rules() | selectattr('severity', 'in', ['quarantine', 'hold']) %}
    {%- if scope is not none %}
        {%- set hard = hard | selectattr('scope', 'equalto', scope) %}
    {%- endif %}
    {{ return(hard | list) }}
{% endmacro %}
