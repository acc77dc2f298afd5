from rest_framework import serializers

from apps.dashboard.selectors import PERIODS


class StatsInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS), default="7d")


class _Totals(serializers.Serializer):
    total_runs = serializers.IntegerField()
    failed_runs = serializers.IntegerField()
    avg_latency_ms = serializers.FloatField(allow_null=True)
    test_pass_rate = serializers.FloatField(allow_null=True, help_text="passed / (passed + failed + error)")


class _Changes(serializers.Serializer):
    total_runs = serializers.FloatField(allow_null=True, help_text="(current - previous) / previous")
    failed_runs = serializers.FloatField(allow_null=True)
    avg_latency_ms = serializers.FloatField(allow_null=True)
    test_pass_rate = serializers.FloatField(
        allow_null=True, help_text="current - previous, in points (0.05 = 5 points)"
    )


class _Day(serializers.Serializer):
    date = serializers.DateField()
    runs = serializers.IntegerField()
    failed = serializers.IntegerField()


class _ChartDay(_Day):
    error_rate = serializers.FloatField(allow_null=True)


class _TestHealth(serializers.Serializer):
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    error = serializers.IntegerField()
    skipped = serializers.IntegerField()


class _Agent(serializers.Serializer):
    agent_name = serializers.CharField(help_text='"" for runs without an agent name')
    runs = serializers.IntegerField()
    failed = serializers.IntegerField()
    failure_rate = serializers.FloatField()


class _TopAgents(serializers.Serializer):
    by_runs = _Agent(many=True)
    by_failure_rate = _Agent(many=True)


class StatsOutput(_Totals):
    runs_by_day = _Day(many=True, help_text="Each day of the period (UTC)")
    period = serializers.ChoiceField(choices=list(PERIODS))
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    previous = _Totals(help_text="The same numbers over the period before")
    changes = _Changes()
    test_health = _TestHealth()
    error_rate_by_day = _ChartDay(many=True, help_text="The last 7 days (UTC), whatever the period")
    top_agents = _TopAgents()
