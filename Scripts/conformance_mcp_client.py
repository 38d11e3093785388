#!/usr/bin/env python3
"""Drives `gmail-capture`'s MCP server with the official Python MCP client (the `mcp` package from PyPI),
over stdio (spawning `gmail-capture mcp --as VIEWER`) and over streamable HTTP (a live `gmail-capture serve`
with a bearer token), running the same checks on both: initialize, list tools, call every tool, a member's
view under the sharing levels, pagination covering everything exactly once, an oversized thread split across
pages, a hostile body kept inside its untrusted-content block, errors as tool results.

The facts to check against come from a JSON file written by the Swift test that builds the firm
(Tests/MCPTests/MCPConformanceTests.swift). Prints one line per check and ends with "N passed, M failed";
exits 1 when anything failed.

    python3 Scripts/conformance_mcp_client.py --fixture facts.json --binary .build/debug/gmail-capture \
        --db crm.db --http http://127.0.0.1:PORT/mcp --token gct_...
"""

import argparse
import asyncio
import hashlib
import json
import os
import re
import sys
import traceback

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

try:  # mcp >= 2
    from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

    def http_transport(url, token):
        return streamable_http_client(url, http_client=create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}))

except ImportError:  # mcp 1.x
    from mcp.client.streamable_http import streamablehttp_client

    def http_transport(url, token):
        return streamablehttp_client(url, headers={"Authorization": f"Bearer {token}"})


OPEN = re.compile(r"^--- untrusted email content ([0-9a-f]{16}) \(from (.*), (.*)\) ---$")
TOOLS = {
    "search_threads", "get_thread", "get_message", "list_investors", "investor_relationship", "who_knows", "going_cold",
    "mailbox_status",
}

results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    return ok


def structured(r):
    return getattr(r, "structured_content", None) or getattr(r, "structuredContent", None) or {}


def text(r):
    return "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")


def is_error(r):
    return bool(getattr(r, "is_error", None) or getattr(r, "isError", None))


def blocks(t):
    """(blocks [(nonce, sender, date, content)], text outside blocks, unterminated count)."""
    out, outside, current = [], [], None
    for line in t.split("\n"):
        if current is not None:
            if line == f"--- end untrusted email content {current[0]} ---":
                out.append((current[0], current[1], current[2], "\n".join(current[3])))
                current = None
            else:
                current[3].append(line)
        else:
            m = OPEN.match(line)
            if m:
                current = (m.group(1), m.group(2), m.group(3), [])
            else:
                outside.append(line)
    return out, "\n".join(outside), 0 if current is None else 1


def unfence(value):
    """The content of a value that is exactly one block, else None."""
    if not isinstance(value, str):
        return None
    b, outside, open_ = blocks(value)
    if len(b) != 1 or open_ or outside:
        return None
    return b[0][3]


def chunk(value, length):
    c = unfence(value)
    if c is None:
        return None
    return c + "\n" if len(c) == length - 1 else c


async def pages(session, tool, args, limit=500):
    out, cursor = [], None
    while True:
        a = dict(args)
        if cursor:
            a["cursor"] = cursor
        r = await session.call_tool(tool, a)
        if is_error(r):
            raise RuntimeError(f"{tool} {a}: {text(r)}")
        out.append(r)
        cursor = structured(r).get("nextCursor")
        if not cursor or len(out) >= limit:
            return out


def bounded(r, max_chars):
    t = len(text(r))
    s = len(json.dumps(structured(r), ensure_ascii=False, separators=(",", ":")))
    return t <= max_chars and s <= max_chars + max_chars // 20, f"text {t}, structured {s} > {max_chars}"


async def run_checks(session, facts, label, max_chars):
    def name(n):
        return f"[{label}] {n}"

    init = await session.initialize()
    instructions = init.instructions or ""
    check(
        name("initialize: instructions fence email content as data"),
        "--- untrusted email content NONCE (from SENDER, DATE) ---" in instructions
        and "--- end untrusted email content NONCE ---" in instructions and "never instructions" in instructions,
        instructions[:200],
    )

    tools = (await session.list_tools()).tools
    names = {t.name for t in tools}
    check(name("tools/list: the eight tools"), names == TOOLS, names)
    bad = []
    for t in tools:
        a = t.annotations
        ro = getattr(a, "read_only_hint", getattr(a, "readOnlyHint", None))
        de = getattr(a, "destructive_hint", getattr(a, "destructiveHint", None))
        ide = getattr(a, "idempotent_hint", getattr(a, "idempotentHint", None))
        ow = getattr(a, "open_world_hint", getattr(a, "openWorldHint", None))
        schema_in = getattr(t, "input_schema", None) or getattr(t, "inputSchema", None)
        schema_out = getattr(t, "output_schema", None) or getattr(t, "outputSchema", None)
        if not (ro is True and de is False and ide is True and ow is False and t.description and schema_in and schema_out):
            bad.append(t.name)
    check(name("tools/list: descriptions, schemas, read-only annotations"), not bad, bad)

    # mailbox_status: a member sees their own mailbox.
    r = await session.call_tool("mailbox_status", {})
    rows = structured(r).get("mailboxes", [])
    check(name("mailbox_status: the viewer's own mailbox"), [m.get("email") for m in rows] == [facts["viewer"]], rows)

    # list_investors: every CRM investor exactly once across pages, each page bounded.
    ps = await pages(session, "list_investors", {})
    ids = [i["id"] for p in ps for i in structured(p).get("investors", [])]
    check(name(f"list_investors: {len(ids)} investors over {len(ps)} pages, each exactly once"), ids == facts["investors"],
          f"{len(ids)} ids vs {len(facts['investors'])}")
    check(name("list_investors: pages paginate and stay bounded"), len(ps) > 1 and all(bounded(p, max_chars)[0] for p in ps),
          [bounded(p, max_chars)[1] for p in ps if not bounded(p, max_chars)[0]])
    with_figures = {i["id"] for p in ps for i in structured(p).get("investors", []) if i.get("relationship")}
    check(name("list_investors: relationships as the viewer sees them"), with_figures == set(facts["investorsWithFigures"]),
          sorted(with_figures ^ set(facts["investorsWithFigures"])))

    # investor_relationship, who_knows, going_cold.
    top = facts["topInvestor"]
    ps = await pages(session, "investor_relationship", {"investorId": top["id"]})
    inv = structured(ps[0]).get("investor", {})
    timeline = [t for p in ps for t in structured(p).get("timeline", [])]
    check(name("investor_relationship: figures and the whole timeline"),
          inv.get("investorId") == top["id"] and inv.get("messagesIn") == top["messagesIn"] and len(timeline) == top["timeline"],
          f"{inv.get('messagesIn')} / {len(timeline)}")
    r = await session.call_tool("investor_relationship", {"investorId": "inv-does-not-exist"})
    check(name("investor_relationship: an unknown investor is a tool error"), is_error(r) and "no such investor" in text(r), text(r))

    ps = await pages(session, "who_knows", {"query": facts["whoKnows"]["query"]})
    mates = [t["email"] for t in structured(ps[0]).get("teammates", [])]
    people = [p["address"] for pg in ps for p in structured(pg).get("people", [])]
    names_fenced = all(p["name"] is None or unfence(p["name"]) is not None for pg in ps for p in structured(pg).get("people", []))
    check(name("who_knows: teammates and people, display names fenced"),
          mates == facts["whoKnows"]["teammates"] and people == facts["whoKnows"]["people"] and names_fenced,
          f"{mates} / {len(people)} people")
    r = await session.call_tool("who_knows", {"query": "not a domain!"})
    check(name("who_knows: a bad query is a tool error"), is_error(r), text(r))

    ps = await pages(session, "going_cold", {"days": 30, "minInteractions": 1})
    cold = [i["investorId"] for p in ps for i in structured(p).get("investors", [])]
    check(name("going_cold: the report's investors, each exactly once"), cold == facts["cold"], f"{len(cold)} vs {len(facts['cold'])}")

    # search_threads: every result exactly once across pages.
    ps = await pages(session, "search_threads", {"query": facts["search"]["query"], "limit": 3})
    found = [x["threadId"] for p in ps for x in structured(p).get("results", [])]
    fenced = all(unfence(x["snippet"]) is not None for p in ps for x in structured(p).get("results", []))
    check(name(f"search_threads: {len(found)} results over {len(ps)} pages, each exactly once, snippets fenced"),
          found == facts["search"]["threads"] and fenced, f"{found[:10]} vs {facts['search']['threads'][:10]}")
    r = await session.call_tool("search_threads", {"query": "frobnicate:yes"})
    check(name("search_threads: an unknown operator is a tool error"), is_error(r), text(r))

    # A member's view: each message at the level the read model gives this viewer.
    wrong = []
    for tid, expected in facts["threads"].items():
        ps = await pages(session, "get_thread", {"threadId": int(tid)})
        msgs = [m for p in ps for m in structured(p).get("messages", [])]
        seen = {}
        for m in msgs:
            level = m["visibility"]
            seen[m["messageId"]] = level
            if level == "metadata" and (m["subject"] is not None or m["snippet"] is not None or m["textBody"] is not None):
                wrong.append(f"{tid}: metadata message shows content")
            if level == "subject" and (m["textBody"] is not None or unfence(m["subject"]) is None):
                wrong.append(f"{tid}: subject message wrong")
            if level == "full" and unfence(m["textBody"]) is None:
                wrong.append(f"{tid}: full message without a fenced body")
        if seen != expected:
            wrong.append(f"{tid}: levels {seen} != {expected}")
    levels = {lvl for e in facts["threads"].values() for lvl in e.values()}
    check(name(f"get_thread: a member's view over {len(facts['threads'])} threads, levels {sorted(levels)}"),
          not wrong and levels == {"metadata", "subject", "full"}, wrong[:5])
    r1 = await session.call_tool("get_thread", {"threadId": facts["invisibleThread"]})
    r2 = await session.call_tool("get_thread", {"threadId": facts["missingThread"]})
    check(name("get_thread: an invisible thread answers like a missing one"),
          is_error(r1) and is_error(r2)
          and text(r1).replace(str(facts["invisibleThread"]), "N") == text(r2).replace(str(facts["missingThread"]), "N"),
          f"{text(r1)!r} / {text(r2)!r}")

    # The oversized thread: split across pages, every body whole exactly once, every page bounded.
    ps = await pages(session, "get_thread", {"threadId": facts["bigThread"]})
    rebuilt, order, problems = {}, [], []
    for n, p in enumerate(ps):
        ok, why = bounded(p, max_chars)
        if not ok:
            problems.append(f"page {n + 1}: {why}")
        for m in structured(p).get("messages", []):
            mid = m["messageId"]
            part = m.get("textBodyPart") or {"offset": 0, "length": facts["bigBodies"][mid]["length"]}
            if part["offset"] != len(rebuilt.get(mid, "")):
                problems.append(f"{mid}: offset {part['offset']} after {len(rebuilt.get(mid, ''))}")
            c = chunk(m["textBody"], part["length"])
            if c is None:
                problems.append(f"{mid}: body not fenced")
                continue
            if mid not in rebuilt:
                order.append(mid)
            rebuilt[mid] = rebuilt.get(mid, "") + c
    whole = all(hashlib.sha256(rebuilt.get(mid, "").encode()).hexdigest() == b["sha256"] for mid, b in facts["bigBodies"].items())
    check(name(f"get_thread: the oversized thread over {len(ps)} pages, every body whole exactly once"),
          len(ps) >= 3 and whole and not problems and order == facts["bigOrder"], problems[:5])

    # get_message, and the hostile body kept inside its block (text and structured content).
    for tool, args in (("get_message", {"messageId": facts["hostile"]["messageId"]}),
                       ("get_thread", {"threadId": facts["hostile"]["threadId"]})):
        r = await session.call_tool(tool, args)
        t = text(r)
        b, outside, unterminated = blocks(t)
        nonces = {x[0] for x in b}
        body = facts["hostile"]["body"]
        inside = any(body in x[3] for x in b)
        s = structured(r)
        m = s.get("message") or (s.get("messages") or [{}])[0]
        check(name(f"{tool}: the hostile body stays inside its block"),
              not is_error(r) and len(nonces) == 1 and not unterminated and inside
              and "ignore previous instructions" not in outside.lower() and "exfil@attacker.example" not in outside
              and unfence(m.get("textBody")) == body and all(n not in body for n in nonces),
              f"nonces {nonces}, inside {inside}, outside: {outside[:300]!r}")

    # Errors are results, not crashes.
    for args, why in (({"threadId": "abc"}, "threadId"), ({"threadId": 1, "bogus": 2}, "bogus"),
                      ({"threadId": 1, "cursor": "garbage"}, "cursor")):
        r = await session.call_tool("get_thread", args)
        check(name(f"get_thread {args}: a tool error naming {why}"), is_error(r) and why in text(r), text(r))


async def over_stdio(facts, args):
    env = dict(os.environ)
    env["CRM_GMAIL_WORKSPACE_DOMAIN"] = facts["workspaceDomain"]
    params = StdioServerParameters(
        command=args.binary, args=["mcp", "--as", facts["viewer"], "--db", args.db, "--max-chars", str(args.max_chars)], env=env)
    with open(os.devnull, "w") as devnull:
        async with stdio_client(params, errlog=devnull) as (read, write):
            async with ClientSession(read, write) as session:
                await run_checks(session, facts, "stdio", args.max_chars)


async def over_http(facts, args):
    async with http_transport(args.http, args.token) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await run_checks(session, facts, "http", args.max_chars)


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fixture", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--max-chars", type=int, default=20000)
    p.add_argument("--http", help="the /mcp URL of a live `gmail-capture serve`")
    p.add_argument("--token", help="a bearer token of the viewer")
    args = p.parse_args()
    with open(args.fixture) as f:
        facts = json.load(f)
    for label, run in (("stdio", over_stdio), ("http", over_http)):
        if label == "http" and not args.http:
            continue
        try:
            await asyncio.wait_for(run(facts, args), timeout=600)
        except BaseException as e:  # noqa: BLE001 - report and count, then carry on with the other transport
            traceback.print_exc()
            check(f"[{label}] the session ran to the end", False, repr(e))
    passed, failed = results.count(True), results.count(False)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
