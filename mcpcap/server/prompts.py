"""Prompts: each chosen module's ready-made investigations (`ProtocolModule.prompts`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

if TYPE_CHECKING:
    from mcpcap.core.modules.contract import ProtocolModule

CaptureName = Annotated[str, Field(description="The capture's name, as list_captures shows it.")]


def register_prompts(server: MCPServer, modules: Iterable[ProtocolModule]) -> None:
    for module in modules:
        for prompt in module.prompts():
            register = server.prompt(
                name=prompt.name, title=prompt.title, description=prompt.description
            )
            register(_renderer(prompt.template))


def _renderer(template: str):
    def render(capture: CaptureName) -> str:
        return template.replace("{capture}", capture)

    return render
