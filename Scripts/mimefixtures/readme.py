"""README.md for Fixtures/mime (rendered from the fixture registry)."""


def render(fixtures):
    return "placeholder\n"
