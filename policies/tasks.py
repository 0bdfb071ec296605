from celery import shared_task


@shared_task(name="policies.process_policy_file", ignore_result=True)
def process_policy_file(file_id: int) -> None:
    """Extract and detect one received policy file (never raises for bad input)."""
    from .ingest import process

    process(file_id)
