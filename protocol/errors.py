"""The one exception hierarchy for wire-format validation."""


class ProtocolError(ValueError):
    """Input that does not follow a BinFleet wire format.

    `field` names the offending field (or "payload" for the whole message),
    `rule` the rule it broke, in words an operator can act on.
    """

    def __init__(self, field: str, rule: str, value: object = None) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        super().__init__(f"{field}: {rule}" + ("" if value is None else f" (got {shown})"))
