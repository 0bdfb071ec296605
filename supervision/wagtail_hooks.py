"""Supervision's place in the shared demo loader."""

from wagtail import hooks


@hooks.register("register_demo_loader")
def load_supervision_demo(stdout):
    from .demo import load_demo

    load_demo(stdout)
