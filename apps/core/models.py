import uuid

from django.db import models


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(UUIDModel):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CacheEntry(models.Model):
    """The table of the database cache (`createcachetable`'s columns) that throttles count in when
    there is no Redis: a model, so that `migrate` creates it wherever the app runs."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "agentscope_cache"

    def __str__(self) -> str:
        return self.cache_key
