from rest_framework import serializers

from apps.dashboard.selectors import PERIODS


def _usd(**kwargs):
    return serializers.DecimalField(max_digits=24, decimal_places=10, **kwargs)


class StatsInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS), default="7d")


class _Totals(serializers.Serializer):
    total_runs = serializers.IntegerField()
    failed_runs = serializers.IntegerField()
    avg_latency_ms = serializers.FloatField(allow_null=True)
    test_pass_rate = serializers.FloatField(allow_null=True, help_text="passed / (passed + failed + error)")
    total_cost_usd = _usd(help_text="The sum of the priced LLM steps of the period's runs (USD).")


class _Changes(serializers.Serializer):
    total_runs = serializers.FloatField(allow_null=True, help_text="(current - previous) / previous")
    failed_runs = serializers.FloatField(allow_null=True)
    avg_latency_ms = serializers.FloatField(allow_null=True)
    test_pass_rate = serializers.FloatField(
        allow_null=True, help_text="current - previous, in points (0.05 = 5 points)"
    )
    total_cost_usd = serializers.FloatField(allow_null=True)


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
    cost_usd = _usd()


class _TopAgents(serializers.Serializer):
    by_runs = _Agent(many=True)
    by_failure_rate = _Agent(many=True)
    by_cost = _Agent(many=True)


class _Model(serializers.Serializer):
    model = serializers.CharField(help_text='"other" in a day\'s breakdown: the models past the top ones')
    cost_usd = _usd()


class _TopModel(_Model):
    calls = serializers.IntegerField(help_text="Priced LLM calls")


class _CostDay(serializers.Serializer):
    date = serializers.DateField()
    cost_usd = _usd()
    models = _Model(many=True)


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
    top_models = _TopModel(many=True, help_text="The models that cost most in the period")
    cost_by_day = _CostDay(many=True, help_text="Each day of the period (UTC), its cost by model")
