"""The schedules django-q2 runs, as data owned by name and synced idempotently on deploy."""

from __future__ import annotations

from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "takedown.recheck-tick",
        "func": "takedown.tasks.recheck_tick",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "takedown.housekeeping-tick",
        "func": "takedown.tasks.housekeeping_tick",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "takedown.contacts-tick",
        "func": "takedown.tasks.contacts_tick",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "takedown.chain-daily",
        "func": "takedown.tasks.chain_daily",
        "schedule_type": Schedule.DAILY,
        "repeats": -1,
    },
    {
        "name": "takedown.retention-daily",
        "func": "takedown.retention.retention_tick",
        "schedule_type": Schedule.DAILY,
        "repeats": -1,
    },
]


def sync_schedules() -> tuple[int, int]:
    """Create or update our schedules by name; leaves anyone else's alone. Returns (created, updated)."""
    created = updated = 0
    for spec in SCHEDULES:
        fields = {k: v for k, v in spec.items() if k != "name"}
        schedule = Schedule.objects.filter(name=spec["name"]).first()
        if schedule is None:
            Schedule.objects.create(name=spec["name"], **fields)
            created += 1
        elif any(getattr(schedule, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(schedule, k, v)
            schedule.save()
            updated += 1
    return created, updated
