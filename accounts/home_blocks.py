"""Blocks of the 工作台 that apps above accounts contribute: an app registers a provider in its
``AppConfig.ready()``; the provider gets the request and returns the block's context with its ``template``, or
None when the user should not see it. Accounts never imports the apps that register."""

from collections.abc import Callable

_PROVIDERS: list[Callable] = []


def register_home_block(provider: Callable) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def home_blocks(request) -> list[dict]:
    return [block for provider in _PROVIDERS if (block := provider(request))]
