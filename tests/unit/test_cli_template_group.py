"""``./gateway template ...`` is one group, whichever module adds its first command: the template commands
join a group another module made (``template lint``), and make it when there is none."""

from __future__ import annotations

import argparse

from tools.cli import templates_cli


def test_the_template_commands_join_a_group_another_module_made():
    root = argparse.ArgumentParser()
    sub = root.add_subparsers(dest="command", required=True)
    group = sub.add_parser("template").add_subparsers(dest="template_command", required=True)
    group.add_parser("lint").add_argument("file")
    templates_cli.add_commands(sub)
    assert root.parse_args(["template", "lint", "t.yaml"]).file == "t.yaml"
    created = root.parse_args(["template", "create", "--name", "Due", "--channel", "sms"])
    assert created.func is templates_cli.cmd_template_create


def test_the_template_commands_make_the_group_when_there_is_none():
    root = argparse.ArgumentParser()
    sub = root.add_subparsers(dest="command", required=True)
    templates_cli.add_commands(sub)
    approved = root.parse_args(["template", "approve", "tpl_1", "2"])
    assert (approved.func, approved.template_id, approved.version) == (templates_cli.cmd_template_approve, "tpl_1", 2)
