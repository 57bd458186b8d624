"""Target and attack registries: the plug-in kernel's :class:`PluginRegistry`."""

from __future__ import annotations

from jbgrade._plugins import PluginRegistry as Registry

__all__ = ["Registry"]
