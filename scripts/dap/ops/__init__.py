"""Running the platform: CloudWatch metrics for loads and dbt runs, documentation
coverage of the dbt project."""
