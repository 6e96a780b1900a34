{#
    The day's measures, defined once: each extract carries some or all of them (the
    loader records which in `carried_columns`), and dbt merges extracts by date, measure
    by measure (int_daily_metrics_merged). A measure is:
      name              business name, as in staging and the marts
      raw_name          the raw zone's column (the name `carried_columns` lists)
      required_for_day  a day without it is incomplete and held back (rule day_incomplete);
                        the others may be missing on a day in the marts (null)
#}
{% macro daily_metric_measures() %}
    {{ return([
        {'name': 'calls_offered', 'raw_name': 'callsoffered', 'required_for_day': true},
        {'name': 'calls_handled', 'raw_name': 'callshandled', 'required_for_day': true},
        {'name': 'calls_abandoned', 'raw_name': 'callsabandoned', 'required_for_day': true},
        {'name': 'avg_speed_of_answer_seconds', 'raw_name': 'averagespeedofanswer', 'required_for_day': false},
        {'name': 'service_level', 'raw_name': 'servicelevel', 'required_for_day': false},
    ]) }}
{% endmacro %}
