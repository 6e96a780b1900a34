{#
    The hard rules for a day's figures: a row that breaks any of them is routed to
    the quarantine (models/quality/quarantine_daily_metrics.sql) and never reaches
    the marts. Each rule is a condition that is true when the row FAILS, written
    against int_daily_metrics_validated's columns. What each rule means, and the
    soft rules that only warn, are catalogued in seeds/quality_rules.csv.
#}
{% macro daily_metric_hard_rules() %}
    {{ return([
        {
            'code': 'date_missing_or_unreadable',
            'fails_when': 'date is null',
        },
        {
            'code': 'date_out_of_range',
            'fails_when': "date < date '" ~ var('first_service_date') ~ "' or date > " ~ current_date_utc(),
        },
        {
            'code': 'duplicate_date_in_extract',
            'fails_when': 'date is not null and versions_of_date_in_extract > 1',
        },
        {
            'code': 'value_missing_or_unreadable',
            'fails_when': 'calls_offered is null or calls_handled is null or calls_abandoned is null'
                ~ ' or service_level is null or avg_speed_of_answer_seconds is null',
        },
        {
            'code': 'negative_count',
            'fails_when': 'calls_offered < 0 or calls_handled < 0 or calls_abandoned < 0',
        },
        {
            'code': 'handled_exceeds_offered',
            'fails_when': 'calls_handled > calls_offered',
        },
        {
            'code': 'abandoned_exceeds_offered',
            'fails_when': 'calls_abandoned > calls_offered',
        },
        {
            'code': 'service_level_out_of_range',
            'fails_when': 'service_level < 0 or service_level > 1',
        },
        {
            'code': 'negative_speed_of_answer',
            'fails_when': 'avg_speed_of_answer_seconds < 0',
        },
    ]) }}
{% endmacro %}
