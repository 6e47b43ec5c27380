"""An independent MCP client (the `mcp` package from PyPI) driving `gaffer mcp` over stdio.

Usage: client.py GAFFER_BINARY REPOSITORY BLOCKER_TASK_ID

Starts `GAFFER_BINARY mcp` in REPOSITORY (whose daemon runs), lists the tools, calls them, and
prints one JSON document with what it saw; the Rust test (tests/mcp.rs) checks it. The tools are
called twice over: as a person's own agent would (no GAFFER_TASK), and as an agent gaffer runs
would (GAFFER_TASK set to BLOCKER_TASK_ID, whose run is going).
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    text = text_of(result)
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return {"is_error": bool(result.is_error), "text": text, "json": value}


async def session_with(gaffer, repo, env, work):
    params = StdioServerParameters(command=gaffer, args=["mcp"], cwd=repo, env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            return await work(session, init)


async def main():
    gaffer, repo, blocker = sys.argv[1], sys.argv[2], int(sys.argv[3])
    env = {k: v for k, v in os.environ.items() if k not in ("GAFFER_TASK", "GAFFER_RUN")}
    out = {}

    async def as_person(session, init):
        out["server"] = {"name": init.server_info.name, "instructions": init.instructions or ""}
        tools = await session.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        out["add_task_schema"] = next(t.input_schema for t in tools.tools if t.name == "add_task")
        out["added"] = await call(session, "add_task", {
            "title": "Document the MCP server",
            "body": "Say how to register gaffer with Claude Code and Codex.",
            "labels": ["docs"],
            "priority": 2,
            "depends_on": [blocker],
        })
        new_id = out["added"]["json"]["id"]
        out["shown"] = await call(session, "show_task", {"id": new_id})
        out["listed"] = await call(session, "list_tasks", {"status": ["backlog"]})
        out["updated"] = await call(session, "update_task", {"id": new_id, "title": "Document gaffer mcp", "priority": 5})
        out["scoped"] = await call(session, "update_task", {"id": new_id, "write_scope": ["docs/**"]})
        out["cycle_refused"] = await call(session, "update_task", {"id": new_id, "add_depends_on": [new_id]})
        out["revert_refused"] = await call(session, "revert_task", {"id": new_id})
        out["move_refused"] = await call(session, "move_in_queue", {"id": new_id, "to": 1})
        out["move_without_place"] = await call(session, "move_in_queue", {"id": new_id})
        out["proposed"] = await call(session, "propose", {"title": "Cache the config", "body": "It is parsed twice."})
        out["accepted"] = await call(session, "accept_proposal", {"id": out["proposed"]["json"]["id"]})
        out["proposed_too"] = await call(session, "propose", {"title": "Rename every module"})
        out["declined"] = await call(session, "decline_proposal", {"id": out["proposed_too"]["json"]["id"], "reason": "churn"})
        out["budget"] = await call(session, "set_budget", {"id": new_id, "usd": 1.25})
        out["approve_refused"] = await call(session, "approve", {"id": new_id})
        out["plan_without_planner"] = await call(session, "plan_goal", {"goal": "Rewrite the docs\nall of them"})
        out["queue"] = await call(session, "queue_status", {})
        out["usage"] = await call(session, "usage", {})
        out["status"] = await call(session, "board_status", {})
        out["progress_outside_a_run"] = await call(session, "report_progress", {"text": "hello"})
        out["missing"] = await call(session, "show_task", {"id": 999999})

    async def as_agent(session, init):
        out["progress_in_a_run"] = await call(session, "report_progress", {"text": "halfway through the slow part"})

    await session_with(gaffer, repo, env, as_person)
    await session_with(gaffer, repo, dict(env, GAFFER_TASK=str(blocker)), as_agent)
    print(json.dumps(out))


asyncio.run(main())
