"""The AsyncAPI document as a page to read (``docs/asyncapi.md``)."""

import json
from typing import Any

from app.asyncapi.document import CLOSE_CODES


def asyncapi_markdown(document: dict[str, Any]) -> str:
    """The document as a page to read: channels, what goes each way, and the messages."""
    lines = [
        "# The WebSocket API (AsyncAPI 3.0)",
        "",
        "Generated from `docs/asyncapi.json` by `python -m app asyncapi --markdown`; do not edit.",
        "",
        document["info"]["description"],
        "",
    ]
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]
    for name, channel in document["channels"].items():
        lines += [f"## {name}: `{channel['address']}`", "", channel["description"], ""]
        for parameter, spec in channel.get("parameters", {}).items():
            lines.append(f"- Path parameter `{parameter}`: {spec['description']}")
        for query, spec in channel["bindings"]["ws"]["query"]["properties"].items():
            lines.append(f"- Query `{query}`: {spec.get('description', spec.get('type', ''))}")
        lines.append("")
        for action in ("receive", "send"):
            operation = document["operations"][f"{action}_{name}"]
            names = [ref["$ref"].rsplit("/", 1)[1] for ref in operation["messages"]]
            title = "Client to server" if action == "receive" else "Server to client"
            lines.append(f"{title}: " + ", ".join(f"`{n}`" for n in names) + ".")
            lines.append("")
    lines += ["## Messages", ""]
    for name, message in messages.items():
        lines.append(f"### `{name}` ({message['contentType']})")
        lines += ["", message["summary"], ""]
        payload = message["payload"]
        if "allOf" in payload:
            data = payload["properties"]["data"]["$ref"].rsplit("/", 1)[1]
            lines += [f"An `event` whose `data` is a `{data}`.", ""]
        if "$ref" in payload:
            schema = schemas[payload["$ref"].rsplit("/", 1)[1]]
            lines += ["| Field | Type | Required |", "| --- | --- | --- |"]
            required = set(schema.get("required", []))
            for field, spec in schema.get("properties", {}).items():
                lines.append(
                    f"| `{field}` | {_type_of(spec)} | {'yes' if field in required else ''} |"
                )
            lines.append("")
    lines += ["## Close codes", "", "| Code | When |", "| --- | --- |"]
    lines += [f"| {code} | {when} |" for code, when in CLOSE_CODES.items()]
    return "\n".join(lines) + "\n"


def _type_of(spec: dict[str, Any]) -> str:
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[1]
    if "enum" in spec:
        return " or ".join(f"`{json.dumps(value)}`" for value in spec["enum"])
    if "anyOf" in spec:
        return " or ".join(_type_of(option) for option in spec["anyOf"])
    if spec.get("type") == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    return str(spec.get("type", "any"))
