from datetime import datetime

from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from apps.core.models import UUIDModel
from apps.core.timing import ms_between
from apps.projects.models import Project


class SearchField(models.TextField):
    """A run's or step's words for full-text search (apps.runs.search), written by the write path:
    a `tsvector` on PostgreSQL (under a GIN index), their text on SQLite (an FTS5 table mirrors it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def db_type(self, connection) -> str:
        return "tsvector" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        from apps.runs.search import SearchWords, tsvector_literal

        if isinstance(value, SearchWords):  # as computed; a value read back is already the column's own text
            return tsvector_literal(value) if connection.vendor == "postgresql" else str(value)
        return value


class WithoutSearch(models.Manager):
    """Rows without their `search` column, which nothing but the search's own SQL reads."""

    def get_queryset(self):
        return super().get_queryset().defer("search")


class RunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"


class StepType(models.TextChoices):
    LLM_CALL = "llm_call", "LLM call"
    TOOL_CALL = "tool_call", "Tool call"
    RETRIEVAL = "retrieval"
    CUSTOM = "custom"
    ERROR = "error"


class StepStatus(models.TextChoices):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED)


class Run(UUIDModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    external_id = models.CharField(max_length=255, null=True, blank=True)
    agent_name = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=50, choices=RunStatus.choices, default=RunStatus.RUNNING)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays")
    replay_from_step = models.IntegerField(null=True, blank=True)
    # Kept current by the one write path (apps.runs.writes) so list pages never aggregate steps.
    step_count = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    # The index the next step without one gets (one past the highest so far), so a post needs no MAX().
    # A default in the database too, so rows written there (COPY, a restore) need not name it.
    next_step_index = models.IntegerField(default=0, db_default=0)
    # Steps that name a parent not stored yet (`RunStep.parent_pending_id`): zero means nothing to link.
    steps_awaiting_parent = models.IntegerField(default=0, db_default=0)
    # The sum of its steps' costs (null while none has a price) and how many LLM calls have none:
    # kept by the write path like the token counter (apps.runs.pricing prices each step).
    cost_usd = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    unpriced_steps = models.IntegerField(default=0, db_default=0)
    # A conversation's turns share a session; `user_id` is the end user's id in the agent's own system.
    session_id = models.CharField(max_length=255, null=True, blank=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    search = SearchField()  # external id, agent name, input, output and error: their words (apps.runs.search)

    objects = WithoutSearch()

    class Meta:
        db_table = "runs"
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=Q(external_id__isnull=False),
                name="runs_project_external_id_uniq",
            )
        ]
        # Each list filter has an index in the list's order (newest first), so a page reads its rows
        # and no more however many runs the project holds.
        indexes = [
            models.Index(fields=["project", "-started_at"], name="runs_project_started_idx"),
            models.Index(fields=["project", "status", "-started_at"], name="runs_project_status_idx"),
            models.Index(fields=["project", "agent_name", "-started_at"], name="runs_project_agent_time_idx"),
            # `q` matches the start of an external id: a LIKE 'prefix%' this index serves in any collation
            # (the opclasses apply on PostgreSQL; SQLite ignores them).
            models.Index(
                fields=["project", "external_id"],
                name="runs_project_extid_prefix_idx",
                opclasses=["uuid_ops", "varchar_pattern_ops"],
            ),
            # A session's turns in order, and the sessions list; a user's runs.
            models.Index(
                fields=["project", "session_id", "started_at"],
                name="runs_project_session_idx",
                condition=Q(session_id__isnull=False),
            ),
            models.Index(
                fields=["project", "-started_at"],
                name="runs_project_session_time_idx",
                condition=Q(session_id__isnull=False),
            ),
            models.Index(
                fields=["project", "user_id", "-started_at"],
                name="runs_project_user_idx",
                condition=Q(user_id__isnull=False),
            ),
            # Range filters: a narrow range is read from these and sorted (a walk in time order would read
            # most of the project); a wide one walks the list's order and the planner takes that instead.
            models.Index(fields=["project", "total_tokens"], name="runs_project_tokens_idx"),
            models.Index(fields=["project", "duration_ms"], name="runs_project_duration_idx"),
            models.Index(fields=["project", "cost_usd"], name="runs_project_cost_idx"),
            # "has a failed step": the list's order among the runs with one
            models.Index(
                fields=["project", "-started_at"], name="runs_project_errors_idx", condition=Q(error_count__gt=0)
            ),
            # /metrics counts paused runs across projects at every scrape: a few rows, never a scan.
            models.Index(fields=["status"], name="runs_paused_idx", condition=Q(status="paused")),
        ]

    def __str__(self) -> str:
        return f"{self.agent_name or 'run'} {self.id}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def integration(self) -> dict | None:
        """The framework integration that recorded the run (docs/integrations.md): `framework`,
        `version`, and the breakpoint `actions` its hooks allow; None for any other run."""
        found = self.metadata.get("integration") if isinstance(self.metadata, dict) else None
        return found if isinstance(found, dict) and isinstance(found.get("framework"), str) else None

    def elapsed_ms(self, now: datetime | None = None) -> int:
        """How long the run has taken: from its start to its end, or to `now` (default: the clock)
        while it has not ended."""
        return ms_between(self.started_at, self.ended_at or now or timezone.now())


class RunStep(UUIDModel):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    step_index = models.IntegerField()
    step_type = models.CharField(max_length=50, choices=StepType.choices)
    name = models.CharField(max_length=255, null=True, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    tokens_used = models.IntegerField(null=True, blank=True)
    latency_ms = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.COMPLETED)
    # The id of a parent that had not arrived when this step was written (OpenTelemetry spans come in
    # any order): it becomes `parent` when a step with that id is written to the same run.
    parent_pending_id = models.UUIDField(null=True, blank=True, editable=False)
    # What an LLM call cost (apps.runs.pricing): null is "no price", never $0. `model` is the model
    # it reported (the dashboard groups by it); `cost_details` its parts and what priced it.
    model = models.CharField(max_length=255, null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    cost_details = models.JSONField(null=True, blank=True)
    search = SearchField()  # name, input, output and error's words (apps.runs.search)

    objects = WithoutSearch()

    class Meta:
        db_table = "run_steps"
        ordering = ["run_id", "step_index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step_index"], name="idx_run_steps_step_index"),
        ]
        indexes = [
            # The runs filters "called tool X" and "used model X" find the steps, then their runs.
            models.Index("name", "run", name="run_steps_tool_idx", condition=Q(step_type="tool_call")),
            models.Index(
                KeyTransform("model", "metadata"),
                "run",
                name="run_steps_model_idx",
                condition=Q(step_type="llm_call"),
            ),
            models.Index(
                fields=["run", "parent_pending_id"],
                name="run_steps_parent_pending_idx",
                condition=Q(parent_pending_id__isnull=False),
            ),
            # The dashboard's cost by model looks up the priced steps of the runs it counts (today's
            # live, or a day being rolled up) and reads model and cost from the index alone (PostgreSQL;
            # SQLite has no INCLUDE and gets a plain partial index on run).
            models.Index(
                fields=["run"],
                include=["model", "cost_usd"],
                name="run_steps_priced_idx",
                condition=Q(cost_usd__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.step_index} {self.step_type} {self.name or ''}".strip()

    # Rules about one step. The write path applies them to plain values (a step being written is not
    # yet a model instance), everything else to the instance, so both are here once.

    @staticmethod
    def status_for(*, step_type: str, output, error, ended_at: datetime | None) -> str:
        """Failed when it carries an error; running while it has neither output nor end; else completed."""
        if error is not None or step_type == StepType.ERROR:
            return StepStatus.FAILED
        if output is None and ended_at is None:
            return StepStatus.RUNNING
        return StepStatus.COMPLETED

    @staticmethod
    def error_in(*, status: str | None, error, step_type: str | None) -> bool:
        """Whether a step with these values is an error: it failed, carries an error or is of type error."""
        return status == StepStatus.FAILED or error is not None or step_type == StepType.ERROR

    @staticmethod
    def error_filter() -> Q:
        """`error_in` as a query: the steps that are errors."""
        return Q(status=StepStatus.FAILED) | Q(error__isnull=False) | Q(step_type=StepType.ERROR)

    @property
    def is_error(self) -> bool:
        return RunStep.error_in(status=self.status, error=self.error, step_type=self.step_type)

    def get_status(self) -> str:
        """The status the step's values give (what the write path stores unless the client sent one)."""
        return RunStep.status_for(
            step_type=self.step_type, output=self.output, error=self.error, ended_at=self.ended_at
        )


class RollupDay(models.Model):
    """A closed UTC day of a project's runs, for the dashboard (apps.runs.rollup).

    The write path adds one to `version` whenever it changes what the day sums (a run that started
    that day is created, deleted, or changes status, duration or agent); the day's `AgentDay` rows are
    right when `rolled_version` equals `version`, else they are summed again from the runs table.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    version = models.BigIntegerField(default=0)
    rolled_version = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "rollup_days"
        constraints = [models.UniqueConstraint(fields=["project", "day"], name="rollup_day_uniq")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day}"


class AgentDay(models.Model):
    """One agent's runs on one closed day: what the dashboard adds up instead of counting runs."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    agent_name = models.CharField(max_length=255, blank=True)  # "" for runs without an agent name
    runs = models.IntegerField()
    failed = models.IntegerField()
    duration_sum = models.BigIntegerField()
    duration_count = models.IntegerField()  # runs with a duration: the average's denominator
    cost_sum = models.DecimalField(max_digits=24, decimal_places=10, default=0, db_default=0)

    class Meta:
        db_table = "rollup_agent_days"
        constraints = [models.UniqueConstraint(fields=["project", "day", "agent_name"], name="rollup_agent_day_uniq")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_name or '(no agent)'}: {self.runs} runs"


class ModelDay(models.Model):
    """One model's priced LLM calls in the runs that started on one closed day (filled with AgentDay)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    model = models.CharField(max_length=255, blank=True)  # "" for calls that named no model
    calls = models.IntegerField()
    cost_sum = models.DecimalField(max_digits=24, decimal_places=10)

    class Meta:
        db_table = "rollup_model_days"
        constraints = [models.UniqueConstraint(fields=["project", "day", "model"], name="rollup_model_day_uniq")]

    def __str__(self) -> str:
        return f"{self.day} {self.model or '(no model)'}: ${self.cost_sum}"


class PriceMatch(models.TextChoices):
    EXACT = "exact"
    GLOB = "glob", "Pattern (glob: * and ?)"


class CustomPrice(UUIDModel):
    """A project's own price for a model: it wins over the price table (apps.runs.pricing).
    Prices are USD per million tokens; a kind left empty costs what input (cache) or output
    (reasoning) costs."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="custom_prices")
    model = models.CharField(max_length=255)
    match = models.CharField(max_length=10, choices=PriceMatch.choices, default=PriceMatch.EXACT)
    input_per_million = models.DecimalField(max_digits=14, decimal_places=6)
    output_per_million = models.DecimalField(max_digits=14, decimal_places=6)
    cache_read_per_million = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    cache_write_per_million = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    reasoning_per_million = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "custom_prices"
        ordering = ["model"]
        constraints = [models.UniqueConstraint(fields=["project", "model", "match"], name="custom_price_uniq")]

    def __str__(self) -> str:
        return f"{self.model} ({self.match})"
