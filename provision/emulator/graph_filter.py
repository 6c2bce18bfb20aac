"""Microsoft Graph ``$filter`` for service principals and groups: the OData subset the emulator answers, parsed,
not guessed.

Supported (what the toolkit, azure-identity, the az CLI and the Graph SDKs send to look a principal up):

- ``appId``, ``id``, ``displayName``, ``servicePrincipalType`` with ``eq`` or ``in ('a', 'b')``;
- ``servicePrincipalNames/any(c:c eq 'x')`` (``az ad sp show --id`` looks a principal up this way);
- on groups: ``id``, ``displayName``, ``mailNickname`` likewise (``az ad group show --group NAME`` sends
  ``displayName eq 'NAME'``);
- ``and``, ``or`` and parentheses; string literals in single quotes, ``''`` for a quote (OData ABNF).

Comparisons are case-insensitive, as the directory's are (an app id in upper case finds the principal).
Anything else Graph refuses as Graph does: another property, or another operator (``ne``, ``startswith``,
``not``...), is 400 ``Request_UnsupportedQuery`` with Graph's texts ("Unsupported or invalid query filter
clause specified for property 'x' of resource 'ServicePrincipal'.", "Unsupported property filter clause
operator 'NotEqualsMatch'.", observed in microsoftgraph/microsoft-graph-docs#18795); text that is not a
filter expression is 400 ``BadRequest`` "Invalid filter clause: ..." (the wording after the colon is the
emulator's). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from provision.emulator import errors

Predicate = Callable[[dict], bool]

PROPERTIES = {"appid": "appId", "id": "id", "displayname": "displayName", "serviceprincipaltype": "servicePrincipalType"}
COLLECTIONS = {"serviceprincipalnames": "servicePrincipalNames"}
# What may be filtered on, by the resource Graph names in its refusals: (properties, collections).
RESOURCES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "ServicePrincipal": (PROPERTIES, COLLECTIONS),
    "Group": ({"id": "id", "displayname": "displayName", "mailnickname": "mailNickname"}, {}),
}
# Graph names the operators it refuses by their internal names; 'ne' is observed, the others follow its pattern.
OPERATORS = {"ne": "NotEqualsMatch", "gt": "GreaterThan", "ge": "GreaterThanOrEqual", "lt": "LessThan",
             "le": "LessThanOrEqual", "has": "Has"}
MAX_DEPTH = 32  # nested parentheses (a deeper filter is refused, not a RecursionError)
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<num>-?[0-9][0-9A-Za-z.:+-]*)"
                    r"|(?P<punct>[(),:/]))")


def _syntax(text: str, position: int, what: str) -> errors.ServiceError:
    return errors.BadRequest(f"Invalid filter clause: {what} at position {position} in '{text}'.")


def _unsupported_property(name: str, resource: str = "ServicePrincipal") -> errors.ServiceError:
    return errors.GraphUnsupportedQuery(
        f"Unsupported or invalid query filter clause specified for property '{name}' of resource '{resource}'.")


class _Parser:
    def __init__(self, text: str, resource: str = "ServicePrincipal"):
        self.text = text
        self.resource = resource
        self.properties, self.collections = RESOURCES[resource]
        self.tokens: list[tuple[str, str, int]] = []  # (kind, value, position)
        position = 0
        while position < len(text):
            found = _TOKEN.match(text, position)
            if found is None or found.end() == position:
                if text[position:].strip() == "":
                    break
                raise _syntax(text, position, f"unexpected character '{text[position]}'")
            kind = found.lastgroup or ""
            self.tokens.append((kind, found.group(kind), found.start(kind)))
            position = found.end()
        self.index = 0

    # ---------------------------------------------------------------- tokens
    def _peek(self) -> tuple[str, str, int]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "", len(self.text))

    def _take(self) -> tuple[str, str, int]:
        token = self._peek()
        self.index += 1
        return token

    def _keyword(self, word: str) -> bool:
        kind, value, _ = self._peek()
        if kind == "word" and value.lower() == word:
            self.index += 1
            return True
        return False

    def _expect(self, punct: str) -> None:
        kind, value, position = self._take()
        if kind != "punct" or value != punct:
            raise _syntax(self.text, position, f"expected '{punct}'")

    def _string(self) -> str:
        kind, value, position = self._take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind in ("num", "word"):  # numbers, true/false/null, unquoted GUIDs: no supported property takes them
            raise errors.GraphUnsupportedQuery(f"Unsupported query filter literal '{value}': the supported properties "
                                               "compare to quoted strings.")
        raise _syntax(self.text, position, "expected a string literal")

    # ---------------------------------------------------------------- grammar
    def parse(self) -> Predicate:
        predicate = self._or(0)
        kind, value, position = self._peek()
        if kind != "end":
            raise _syntax(self.text, position, f"unexpected '{value}'")
        return predicate

    def _or(self, depth: int) -> Predicate:
        terms = [self._and(depth)]
        while self._keyword("or"):
            terms.append(self._and(depth))
        return terms[0] if len(terms) == 1 else (lambda sp: any(term(sp) for term in terms))

    def _and(self, depth: int) -> Predicate:
        factors = [self._primary(depth)]
        while self._keyword("and"):
            factors.append(self._primary(depth))
        return factors[0] if len(factors) == 1 else (lambda sp: all(factor(sp) for factor in factors))

    def _primary(self, depth: int) -> Predicate:
        kind, value, position = self._peek()
        if kind == "punct" and value == "(":
            if depth >= MAX_DEPTH:
                raise _syntax(self.text, position, f"more than {MAX_DEPTH} nested parentheses")
            self._take()
            inner = self._or(depth + 1)
            self._expect(")")
            return inner
        if kind != "word":
            raise _syntax(self.text, position, "expected a property name")
        self._take()
        if value.lower() == "not":
            raise errors.GraphUnsupportedQuery("Unsupported query filter operator 'not'.")
        following = self._peek()
        if following[0] == "punct" and following[1] == "(":  # startswith(...), endswith(...), contains(...)
            raise errors.GraphUnsupportedQuery(f"Unsupported query filter function '{value}'.")
        if following[0] == "punct" and following[1] == "/":
            return self._any(value)
        return self._comparison(value)

    def _comparison(self, name: str) -> Predicate:
        field = self.properties.get(name.lower())
        if field is None:
            raise _unsupported_property(name, self.resource)
        kind, operator, position = self._take()
        if kind != "word":
            raise _syntax(self.text, position, "expected an operator")
        operator = operator.lower()
        if operator == "eq":
            wanted = self._string().casefold()
            return lambda sp: str(sp.get(field, "")).casefold() == wanted
        if operator == "in":
            self._expect("(")
            values = {self._string().casefold()}
            while self._peek()[1] == ",":
                self._take()
                values.add(self._string().casefold())
            self._expect(")")
            return lambda sp: str(sp.get(field, "")).casefold() in values
        if operator in OPERATORS:
            raise errors.GraphUnsupportedQuery(f"Unsupported property filter clause operator '{OPERATORS[operator]}'.")
        raise _syntax(self.text, position, f"unknown operator '{operator}'")

    def _any(self, name: str) -> Predicate:
        field = self.collections.get(name.lower())
        if field is None:
            raise _unsupported_property(name, self.resource)
        self._expect("/")
        if not self._keyword("any"):
            raise errors.GraphUnsupportedQuery(f"Unsupported lambda operator on property '{name}': only any() is.")
        self._expect("(")
        kind, variable, position = self._take()
        if kind != "word":
            raise _syntax(self.text, position, "expected a lambda variable")
        self._expect(":")
        kind, used, position = self._take()
        if kind != "word" or used != variable:
            raise _syntax(self.text, position, f"expected the lambda variable '{variable}'")
        if not self._keyword("eq"):
            raise errors.GraphUnsupportedQuery(f"Unsupported query filter clause on '{name}': only '{variable} eq' is.")
        wanted = self._string().casefold()
        self._expect(")")
        return lambda sp: any(str(item).casefold() == wanted for item in sp.get(field) or ())


def parse(text: str, resource: str = "ServicePrincipal") -> Predicate:
    """A predicate over a ``resource`` (a key of ``RESOURCES``: a servicePrincipal or a group, as a dict); raises
    BadRequest or GraphUnsupportedQuery."""
    return _Parser(text, resource).parse()
