"""A coding agent for gaffer's `command` backend that talks back through `gaffer mcp`.

Usage (as gaffer.toml's command): agent.py GAFFER_BINARY {prompt_file}

On its first run it reports progress and asks a person which greeting to write, with the MCP
tools `report_progress` and `ask_person` (gaffer sets GAFFER_TASK and GAFFER_RUN for it, and
GAFFER_API_URL and GAFFER_RUN_TOKEN, through which `gaffer mcp` reaches the daemon from inside
the sandbox), and ends its turn. When gaffer runs it again with the person's answer, it writes greeting.txt.
"""

import asyncio
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

gaffer, prompt_file = sys.argv[1], sys.argv[2]
with open(prompt_file, encoding="utf-8") as f:
    prompt = f.read()

if "A person answered your question" in prompt:
    with open("greeting.txt", "w", encoding="utf-8") as f:
        f.write("Hello\n")
    print("Wrote greeting.txt as the person said.")
    sys.exit(0)


async def ask():
    params = StdioServerParameters(command=gaffer, args=["mcp"], cwd=os.getcwd(), env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for name, arguments in [
                ("report_progress", {"text": "deciding on a greeting"}),
                ("ask_person", {"question": "Which greeting should greeting.txt hold?"}),
            ]:
                result = await session.call_tool(name, arguments)
                if result.is_error:
                    print(f"{name} failed: {result.content[0].text}", file=sys.stderr)
                    sys.exit(1)


asyncio.run(ask())
print("Asked which greeting to write; waiting for the answer.")
