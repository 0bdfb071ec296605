from celery import shared_task


@shared_task(name="archive.tasks.file_record", ignore_result=True)
def file_record(item_id: int) -> None:
    """Make the rendition, metadata and digests of one registered item."""
    from .services import build_packages

    build_packages([item_id])


@shared_task(name="archive.tasks.verify_fixity", ignore_result=True)
def verify_fixity() -> None:
    """Weekly: re-hash every stored archive file; archivists are told of any problem."""
    from .fixity import verify_all

    verify_all(trigger="每周定时核验")
