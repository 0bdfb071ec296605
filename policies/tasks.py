from celery import shared_task


@shared_task(name="policies.process_policy_file", ignore_result=True)
def process_policy_file(file_id: int) -> None:
    """Extract and detect one received policy file (never raises for bad input)."""
    from .ingest import process

    process(file_id)


@shared_task(name="policies.process_policy_files", ignore_result=True)
def process_policy_files(file_ids: list[int]) -> None:
    """The files of one upload, one after another, their index writes committed in
    batches (each still searchable within seconds)."""
    from search import indexing

    from .ingest import process

    with indexing.bulk() as writer:
        for file_id in file_ids:
            process(file_id)
            if writer is not None:
                writer.tick()


@shared_task(name="policies.recover_unfinished_imports", ignore_result=True)
def recover_unfinished_imports() -> dict:
    """Beat: files left queued or half-processed by a process that died are done again."""
    from .ingest import recover_unfinished

    return recover_unfinished(enqueue=True)
