"""Parser: tokens -> AST (ast.py).

Design: recursive descent for statements and tabular operators, precedence
climbing for scalar expressions (jmespath-style binding-power table below).
Operators outside the DCR subset (``summarize``, ``join``, ``parse-kv``...) are
still parsed, as ``OtherOperator`` nodes, so the checker can name them with a
clear "unsupported" error instead of a syntax error (kql-subset.md §1: "anything
not listed is unsupported").

Raises ``ParseError(message, pos, fix)`` at the first syntax error, the way the
service reports ``SyntaxError:0x00000001 at 1:59 : ...`` (kql-subset.md,
"Service error formats").
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import uuid
from typing import Any

from provision.kql import ast as A
from provision.kql.keywords import DECLARATION_OK, RESERVED
from provision.kql.lexer import EOF, IDENT, NUMBER, OP, QIDENT, STRING, TIMESPAN, TYPED, LexError, Token, tokenize
from provision.kql.types import normalize_type
from provision.kql.values import parse_datetime, parse_timespan_text

# Binding powers (higher binds tighter), as Microsoft's parser has them (Kusto.Language, checked by
# tests/kql/test_differential.py): string operators (has, contains, =~, matches regex, ...) bind tighter
# than * and + ('1 * 2 has "d"' is '1 * (2 has "d")'); then relational (< <= > >=), then equality
# (== !=), then in/!in/between. and/or and arithmetic chain; the comparison levels do not
# ('a == b == c', 'a has b has c', '1 < 2 < 3' are syntax errors there), an 'in' cannot take an
# equality or relational operand, and nothing but and/or may follow an 'in (...)'.
_OR, _AND, _IN, _EQ, _REL, _ADD, _MUL, _STR, _UNARY = 10, 20, 25, 30, 35, 40, 50, 55, 60
_CMP = _STR
_CHAINING = {_OR, _AND, _ADD, _MUL}
_SYMBOL_OPS = {"==": _EQ, "!=": _EQ, "<>": _EQ, "=~": _STR, "!~": _STR, "<": _REL, "<=": _REL, ">": _REL, ">=": _REL,
               "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "%": _MUL}
# Word string operators (kql-subset.md "Scalar operators"; the unlisted ones are parsed and then rejected by the checker).
STRING_OPS = {
    "contains", "contains_cs", "has", "has_cs", "startswith", "startswith_cs", "endswith", "endswith_cs",
    "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs", "like", "like_cs",
}
NEGATED_STRING_OPS = {"!" + op for op in STRING_OPS}
LIST_OPS = {"in", "!in", "in~", "!in~", "has_any", "has_all"}
TABULAR_SOURCES = {"print", "datatable"}


class ParseError(Exception):
    def __init__(self, message: str, pos: int, fix: str = "", code: str = "SyntaxError"):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.fix = fix
        self.code = code


def parse(text: str) -> A.Query:
    """Parse a whole transformKql query; raises ParseError."""
    try:
        tokens = tokenize(text)
    except LexError as error:
        raise ParseError(error.message, error.pos, error.fix) from None
    return _Parser(text, tokens).query()


def parse_expression(text: str):
    """Parse one scalar expression (tests, tools)."""
    try:
        tokens = tokenize(text)
    except LexError as error:
        raise ParseError(error.message, error.pos, error.fix) from None
    parser = _Parser(text, tokens)
    expr = parser.expression()
    parser.expect_eof()
    return expr


def _describe(token: Token) -> str:
    return "end of query" if token.kind == EOF else repr(token.text)


class _Parser:
    def __init__(self, text: str, tokens: list[Token]):
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.tabular_names: set[str] = set()
        self.function_names: set[str] = set()

    # ---- token helpers ----
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != EOF:
            self.i += 1
        return token

    def at_op(self, text: str) -> bool:
        return self.tok.kind == OP and self.tok.text == text

    def at_word(self, *words: str) -> bool:
        return self.tok.kind == IDENT and self.tok.text.lower() in words

    def expect_op(self, text: str, context: str = "") -> Token:
        if not self.at_op(text):
            where = f" {context}" if context else ""
            raise ParseError(f"expected '{text}'{where}, found {_describe(self.tok)}", self.tok.pos, f"insert '{text}'")
        return self.advance()

    def expect_eof(self) -> None:
        if self.tok.kind != EOF:
            raise ParseError(f"extraneous input {_describe(self.tok)} expecting end of query", self.tok.pos,
                             "remove it, or separate statements with ';' and operators with '|'")

    def name_token(self, what: str, declaration: bool = False, keyword_ok: bool = False) -> tuple[str, bool, int]:
        """A name: plain or ['quoted']. Kusto keywords must be quoted (keywords.py), except type names."""
        token = self.tok
        if token.kind == IDENT:
            if not keyword_ok:
                self.check_reserved(token, declaration)
            self.advance()
            return token.text, False, token.pos
        if token.kind == QIDENT:
            self.advance()
            return token.value, True, token.pos
        raise ParseError(f"expected {what}, found {_describe(token)}", token.pos, f"write a {what} here")

    def type_name(self, what: str) -> str:
        """A scalar type name (string, long, datetime, ...); Kusto reports an unknown one as a syntax error."""
        name, _, pos = self.name_token(what, keyword_ok=True)
        if normalize_type(name) is None:
            raise ParseError(f"'{name}' is not a type name", pos,
                             "use string, int, long, real, bool, datetime, timespan, guid or dynamic")
        return name

    def check_reserved(self, token: Token, declaration: bool = False) -> None:
        word = token.text
        if word in RESERVED and not (declaration and word in DECLARATION_OK):
            raise ParseError(f"'{word}' is a keyword: to use it as a name, quote it as ['{word}']", token.pos,
                             f"write ['{word}']")

    # ---- statements ----
    def query(self) -> A.Query:
        lets = []
        body = None
        while self.tok.kind != EOF:
            if self.at_op(";"):
                self.advance()
                continue
            if self.at_word("let"):
                lets.append(self.let_statement())
            else:
                if body is not None:
                    raise ParseError("only one tabular expression statement is allowed", self.tok.pos,
                                     "bind earlier pipelines with 'let' or remove them")
                body = self.tabular()
            if self.tok.kind != EOF and not self.at_op(";"):
                raise ParseError(f"extraneous input {_describe(self.tok)} expecting ';' or '|'", self.tok.pos,
                                 "separate statements with ';' and operators with '|'")
        if body is None:
            raise ParseError("the query has no tabular expression (e.g. 'source')", len(self.text),
                             "end the query with a pipeline such as 'source | ...'")
        return A.Query(tuple(lets), body, 0)

    def let_statement(self) -> A.Let:
        start = self.advance().pos
        name, quoted, _ = self.name_token("name after 'let'")
        self.expect_op("=", "after the let name")
        value: A.Node
        if self.at_op("(") and self._looks_like_function():
            value = self.function_def()
            self.function_names.add(name)
        elif self.at_word(*TABULAR_SOURCES) or (self.tok.kind in (IDENT, QIDENT) and self._name_is_tabular(self.tok)):
            value = self.tabular()
            self.tabular_names.add(name)
        else:
            value = self.expression()
            if self.at_op("|"):
                raise ParseError("a pipeline must start with 'source', 'print', 'datatable' or a tabular let name",
                                 value.pos if hasattr(value, "pos") else start, "start the pipeline with 'source'")
        return A.Let(name, value, start, quoted)

    def _name_is_tabular(self, token: Token) -> bool:
        name = token.value if token.kind == QIDENT else token.text
        return (name == "source" or name in self.tabular_names) and not (self.peek().kind == OP and self.peek().text in ("(", ".", "["))

    def _looks_like_function(self) -> bool:
        # '(' [name ':' type {',' ...}] ')' '{'
        depth = 0
        j = self.i
        while j < len(self.tokens):
            t = self.tokens[j]
            if t.kind == OP and t.text == "(":
                depth += 1
            elif t.kind == OP and t.text == ")":
                depth -= 1
                if depth == 0:
                    nxt = self.tokens[j + 1] if j + 1 < len(self.tokens) else t
                    return nxt.kind == OP and nxt.text == "{"
            elif t.kind == EOF:
                return False
            j += 1
        return False

    def function_def(self) -> A.FunctionDef:
        start = self.expect_op("(").pos
        params = []
        while not self.at_op(")"):
            pname, _, ppos = self.name_token("parameter name", declaration=True)
            self.expect_op(":", "after the parameter name")
            tabular = False
            if self.at_op("("):
                # tabular parameter '(*)' or '(a:string)': kept so the checker can reject it.
                depth = 0
                while True:
                    t = self.advance()
                    if t.kind == OP and t.text == "(":
                        depth += 1
                    elif t.kind == OP and t.text == ")":
                        depth -= 1
                        if depth == 0:
                            break
                    elif t.kind == EOF:
                        raise ParseError("unterminated tabular parameter", t.pos, "close it with ')'")
                ptype = "table"
                tabular = True
            else:
                ptype = self.type_name("parameter type")
            default = None
            if self.at_op("="):
                self.advance()
                default = self.expression()
            params.append(A.Param(pname, ptype, default, ppos, tabular))
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op(")", "to close the parameter list")
        self.expect_op("{", "to start the function body")
        saved_tab = set(self.tabular_names)
        for p in params:
            if p.tabular:
                self.tabular_names.add(p.name)
        lets = []
        while self.at_word("let"):
            lets.append(self.let_statement())
            self.expect_op(";", "after the let statement")
        if self.at_word(*TABULAR_SOURCES) or (self.tok.kind in (IDENT, QIDENT) and self._name_is_tabular(self.tok)):
            body = self.tabular()
        else:
            body = self.expression()
        if self.at_op(";"):
            self.advance()
        self.expect_op("}", "to close the function body")
        self.tabular_names = saved_tab
        return A.FunctionDef(tuple(params), tuple(lets), body, start)

    # ---- tabular ----
    def tabular(self) -> A.Pipeline:
        start = self.tok.pos
        source: A.Print | A.DataTable | A.TableRef
        if self.at_word("print"):
            self.advance()
            source = A.Print(self.assign_list(), start)
        elif self.at_word("datatable"):
            source = self.datatable()
        else:
            name, _, pos = self.name_token("'source'")
            source = A.TableRef(name, pos)
        operators = []
        while self.at_op("|"):
            self.advance()
            operators.append(self.operator())
        return A.Pipeline(source, tuple(operators), start)

    def datatable(self) -> A.DataTable:
        start = self.advance().pos
        self.expect_op("(", "after 'datatable'")
        columns = []
        while True:
            name, quoted, pos = self.name_token("column name", declaration=True)
            self.expect_op(":", "after the column name")
            ctype = self.type_name("column type")
            columns.append(A.ColumnDecl(name, ctype, pos, quoted))
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op(")", "to close the datatable schema")
        if self.tok.kind == QIDENT:  # ['x'] lexes as a quoted name: here it is one string value
            token = self.advance()
            return A.DataTable(tuple(columns), (A.Literal("string", token.value, _string_text(token.value), token.pos + 1),), start)
        self.expect_op("[", "to start the datatable values")
        values = []
        while not self.at_op("]"):
            values.append(self.expression())
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op("]", "to close the datatable values")
        return A.DataTable(tuple(columns), tuple(values), start)

    def operator_name(self) -> tuple[str, int]:
        token = self.tok
        if token.kind != IDENT:
            raise ParseError(f"expected an operator after '|', found {_describe(token)}", token.pos,
                             "write an operator such as extend, project, where")
        self.advance()
        name = token.text
        # 'project-away', 'parse-kv', 'mv-expand': joined only when written without spaces.
        while self.at_op("-") and not self.tok.space_before and self.peek().kind == IDENT and not self.peek().space_before:
            self.advance()
            name += "-" + self.advance().text
        return name, token.pos

    def operator(self):
        name, pos = self.operator_name()
        lower = name.lower()
        if lower == "extend":
            return A.Extend(self.assign_list(), pos)
        if lower == "project":
            if self.tok.kind == EOF or self.at_op("|") or self.at_op(";"):
                return A.Project((), pos)  # Kusto accepts an empty project (no columns)
            return A.Project(self.assign_list(), pos)
        if lower == "project-away":
            return A.ProjectAway(self.name_patterns(), pos)
        if lower == "project-rename":
            pairs = []
            while True:
                new, quoted, npos = self.name_token("new column name", declaration=True)
                self.expect_op("=", "in project-rename (new = old)")
                old, oquoted, opos = self.name_token("existing column name")
                pairs.append((A.Name(new, quoted, npos), A.Name(old, oquoted, opos)))
                if not self.at_op(","):
                    break
                self.advance()
            return A.ProjectRename(tuple(pairs), pos)
        if lower in ("where", "filter"):
            return A.Where(self.expression(), pos)
        if lower == "parse":
            return self.parse_operator(pos)
        return self.other_operator(name, pos)

    def other_operator(self, name: str, pos: int) -> A.OtherOperator:
        depth = 0
        end = self.tok.pos
        while self.tok.kind != EOF:
            t = self.tok
            if t.kind == OP and t.text in ("(", "[", "{"):
                depth += 1
            elif t.kind == OP and t.text in (")", "]", "}"):
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and t.kind == OP and t.text in ("|", ";"):
                break
            end = t.end
            self.advance()
        return A.OtherOperator(name, self.text[pos:max(end, pos + len(name))], pos)

    def name_patterns(self) -> tuple:
        names = []
        while True:
            token = self.tok
            if token.kind == QIDENT:
                self.advance()
                names.append(A.Name(token.value, True, token.pos))
            elif token.kind == IDENT or self.at_op("*"):
                # A name with '*' wildcards, written without spaces: Col*, *Id, *.
                start = token.pos
                text = ""
                while (self.tok.kind == IDENT or self.at_op("*")) and (not text or not self.tok.space_before):
                    if self.tok.kind == IDENT and not self.at_op("*") and text == "" and not (self.peek().kind == OP and self.peek().text == "*"):
                        self.check_reserved(self.tok)
                    text += self.advance().text
                names.append(A.Name(text, False, start))
            else:
                raise ParseError(f"expected a column name, found {_describe(token)}", token.pos, "list the columns to remove")
            if not self.at_op(","):
                return tuple(names)
            self.advance()

    def assign_list(self) -> tuple:
        assigns = []
        while True:
            start = self.tok.pos
            if self.tok.kind in (IDENT, QIDENT) and self.peek().kind == OP and self.peek().text == "=":
                name, quoted, _ = self.name_token("column name", declaration=True)
                self.advance()  # '='
                assigns.append(A.Assign(name, self.expression(), start, quoted))
            else:
                assigns.append(A.Assign(None, self.expression(), start))
            if not self.at_op(","):
                return tuple(assigns)
            self.advance()

    def parse_operator(self, pos: int) -> A.ParseOp:
        kind, flags, explicit = "simple", "", False
        while self.at_word("kind", "flags") and self.peek().kind == OP and self.peek().text == "=":
            word = self.advance().text.lower()
            self.advance()
            value = self.advance()
            text = value.text if value.kind != STRING else value.value
            if word == "kind":
                kind, explicit = text.lower(), True
                if kind not in ("simple", "regex", "relaxed"):
                    raise ParseError(f"unknown parse kind '{text}'", value.pos, "use kind=simple, kind=regex or kind=relaxed")
            else:
                flags = text
        expr = self.expression()
        if not self.at_word("with"):
            raise ParseError(f"expected 'with' in parse, found {_describe(self.tok)}", self.tok.pos,
                             "write: parse Column with \"prefix\" Name:string ...")
        self.advance()
        pattern: list = []
        while not (self.tok.kind == EOF or self.at_op("|") or self.at_op(";") or self.at_op(")") or self.at_op("}")):
            token = self.tok
            if token.kind == STRING:
                self.advance()
                pattern.append(A.PatternText(token.value, token.pos))
            elif self.at_op("*"):
                self.advance()
                pattern.append(A.Wildcard(token.pos))
            elif token.kind in (IDENT, QIDENT):
                name, quoted, npos = self.name_token("column name", declaration=True)
                ctype = "string"
                if self.at_op(":"):
                    self.advance()
                    ctype = self.type_name("column type")
                pattern.append(A.ColumnDecl(name, ctype, npos, quoted))
            else:
                raise ParseError(f"unexpected {_describe(token)} in parse pattern", token.pos,
                                 "a parse pattern is string literals, '*' and Column[:type] names")
        if not pattern:
            raise ParseError("empty parse pattern", self.tok.pos, "add the pattern after 'with'")
        return A.ParseOp(kind, flags, expr, tuple(pattern), pos, explicit)

    # ---- expressions ----
    def expression(self, min_bp: int = 0):
        left = self.unary()
        last = None  # level of the last non-chaining operator applied at this level
        while True:
            token = self.tok
            op, bp = self._binary_op(token)
            if op is None or bp <= min_bp:
                return left
            if last is not None and bp not in (_OR, _AND) and (last == _IN or (bp == _IN and last in (_EQ, _REL)) or bp >= last):
                raise ParseError(f"unexpected {_describe(token)}: comparisons do not chain", token.pos,
                                 "add parentheses, e.g. (a == b) and (b == c)")
            last = None if bp in _CHAINING else bp
            if op == "matches regex":
                self.advance()
                self.advance()
                left = A.Binary(op, left, self.expression(bp), token.pos)
            elif op in LIST_OPS:
                self.advance()
                left = A.InList(op, left, self.list_items(), token.pos)
            elif op in ("between", "!between"):
                self.advance()
                self.expect_op("(", f"after '{op}'")
                low = self.expression()
                self.expect_op("..", f"in '{op} (low .. high)'")
                high = self.expression()
                self.expect_op(")", f"to close '{op}'")
                left = A.Between(op, left, low, high, token.pos)
            else:
                self.advance()
                right = self.expression(bp)
                left = A.Binary("!=" if op == "<>" else op, left, right, token.pos)

    def _binary_op(self, token: Token):
        if token.kind == OP:
            if token.text in _SYMBOL_OPS:
                return token.text, _SYMBOL_OPS[token.text]
            lower = token.text.lower()
            if lower in NEGATED_STRING_OPS:
                return lower, _STR
            if lower in LIST_OPS or lower == "!between":
                return lower, _IN
            return None, 0
        if token.kind == IDENT:
            lower = token.text.lower()
            if lower == "and":
                return "and", _AND
            if lower == "or":
                return "or", _OR
            if lower in STRING_OPS:
                return lower, _STR
            if lower in LIST_OPS or lower == "between":
                return lower, _IN
            if lower == "matches" and self.peek().kind == IDENT and self.peek().text.lower() == "regex":
                return "matches regex", _STR
        return None, 0

    def list_items(self) -> tuple:
        self.expect_op("(", "to start the list")
        items = []
        while not self.at_op(")"):
            items.append(self.expression())
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op(")", "to close the list")
        return tuple(items)

    def unary(self):
        token = self.tok
        if token.kind == OP and token.text in ("-", "+"):
            self.advance()
            operand = self.unary()
            # Fold '-1' into a literal so that printing keeps it compact.
            if token.text == "-" and isinstance(operand, A.Literal) and operand.type in ("long", "real") and operand.value is not None \
                    and not operand.text.startswith("-"):
                return A.Literal(operand.type, -operand.value, "-" + operand.text, token.pos)
            return A.Unary(token.text, operand, token.pos)
        return self.postfix(self.primary())

    def postfix(self, expr):
        while True:
            if self.at_op("."):
                dot = self.advance()
                token = self.tok
                if token.kind == IDENT:
                    if token.text in ("true", "false"):
                        raise ParseError(f"'{token.text}' is a keyword: write ['{token.text}'] after '.'", token.pos,
                                         f"write x['{token.text}']")
                    self.check_reserved(token)
                    self.advance()
                    expr = A.Member(expr, token.text, dot.pos, False)
                elif token.kind == QIDENT:
                    self.advance()
                    expr = A.Member(expr, token.value, dot.pos, True)
                else:
                    raise ParseError(f"expected a property name after '.', found {_describe(token)}", token.pos,
                                     "write x.name or x['name']")
            elif self.at_op("["):
                bracket = self.advance()
                index = self.expression()
                self.expect_op("]", "to close the index")
                expr = A.Index(expr, index, bracket.pos)
            elif self.tok.kind == QIDENT and not self.tok.space_before and isinstance(expr, (A.Name, A.Member, A.Index, A.Call)):
                # x['key'] lexes as a quoted-name token: it is an index by a string.
                token = self.advance()
                expr = A.Index(expr, A.Literal("string", token.value, _string_text(token.value), token.pos + 1), token.pos)
            else:
                return expr

    def primary(self):
        token = self.tok
        if token.kind == NUMBER:
            self.advance()
            kind = "long" if isinstance(token.value, int) else "real"
            return A.Literal(kind, token.value, token.text, token.pos)
        if token.kind == STRING:
            self.advance()
            value = token.value
            # Adjacent string literals concatenate ('a' 'b').
            while self.tok.kind == STRING:
                value += self.advance().value
            return A.Literal("string", value, _string_text(value), token.pos)
        if token.kind == TIMESPAN:
            self.advance()
            return A.Literal("timespan", _dt.timedelta(microseconds=token.value / 10), token.text, token.pos)
        if token.kind == TYPED:
            self.advance()
            return typed_literal(token)
        if token.kind == QIDENT:
            self.advance()
            return A.Name(token.value, True, token.pos)
        if token.kind == IDENT:
            lower = token.text.lower()
            if lower in ("true", "false"):
                self.advance()
                return A.Literal("boolean", lower == "true", lower, token.pos)
            if lower == "dynamic" and self.peek().kind == OP and self.peek().text == "(":
                return self.dynamic_literal()
            if lower == "typeof" and self.peek().kind == OP and self.peek().text == "(":
                # typeof(int): a type name, not an expression (extract's 4th argument)
                self.advance()
                self.advance()
                tname, _, tpos = self.name_token("type name", keyword_ok=True)
                self.expect_op(")", "to close typeof(")
                return A.Call("typeof", (A.Name(tname, False, tpos),), token.pos)
            if self.peek().kind == OP and self.peek().text == "(":
                self.advance()
                return A.Call(token.text, self.call_args(), token.pos)
            self.check_reserved(token)
            self.advance()
            return A.Name(token.text, False, token.pos)
        if self.at_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")", "to close the parenthesis")
            return A.Paren(inner, token.pos)
        raise ParseError(f"expected an expression, found {_describe(token)}", token.pos,
                         "write a column, a literal or a function call here")

    def call_args(self) -> tuple:
        self.expect_op("(")
        args = []
        while not self.at_op(")"):
            args.append(self.expression())
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op(")", "to close the argument list")
        return tuple(args)

    # ---- dynamic literals ----
    def dynamic_literal(self) -> A.DynamicLiteral:
        start = self.advance().pos
        self.expect_op("(", "after 'dynamic'")
        value = self.dynamic_value()
        self.expect_op(")", "to close dynamic(...)")
        return A.DynamicLiteral(value, "dynamic(" + _dynamic_text(value) + ")", start)

    def dynamic_value(self):
        token = self.tok
        if self.at_op("{"):
            self.advance()
            out = {}
            while not self.at_op("}"):
                key = self.advance()
                if key.kind == STRING or key.kind in (IDENT, QIDENT):
                    k = key.value
                else:
                    raise ParseError(f"expected a property name in dynamic literal, found {_describe(key)}", key.pos,
                                     'write {"name": value}')
                self.expect_op(":", "after the property name")
                out[k] = self.dynamic_value()
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op("}", "to close the dynamic object")
            return out
        if self.at_op("["):
            self.advance()
            items = []
            while not self.at_op("]"):
                items.append(self.dynamic_value())
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op("]", "to close the dynamic array")
            return items
        if token.kind == IDENT and token.text.lower() == "null":
            self.advance()
            return None
        if token.kind == QIDENT:  # ['x'] lexes as a quoted name: here it is a one-element array
            self.advance()
            return [token.value]
        expr = self.unary()
        if isinstance(expr, A.Literal):
            return _json_ready(expr)
        raise ParseError("a dynamic literal may only contain literals", token.pos, "use parse_json() to build values from columns")


def _json_ready(lit: A.Literal):
    # Inside dynamic(...), datetimes/timespans are kept as their canonical strings.
    if lit.type in ("datetime", "timespan", "guid") and lit.value is not None:
        from provision.kql.values import to_json_value

        return to_json_value(lit.value, lit.type)
    return lit.value


def _string_text(value: str) -> str:
    """Canonical KQL text of a string: double-quoted with backslash escapes."""
    return json.dumps(value, ensure_ascii=False)


def _dynamic_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def typed_literal(token: Token) -> A.Literal:
    keyword, body = token.value
    raw = body.strip()
    value: Any  # each branch's Python value of the literal
    kw = keyword.lower()
    kind = {"date": "datetime", "time": "timespan", "double": "real", "bool": "boolean", "decimal": "real",
            "int": "int", "long": "long", "real": "real", "boolean": "boolean", "datetime": "datetime",
            "timespan": "timespan", "guid": "guid"}[kw]
    if raw.lower() == "null":
        return A.Literal(kind, None, f"{kind}(null)", token.pos)
    bad = ParseError(f"invalid {kind} literal {keyword}({body})", token.pos, _LITERAL_FIX[kind])
    if kind == "datetime":
        value = parse_datetime(raw.strip("'\""))
        if value is None:
            raise bad
        from provision.kql.values import format_datetime

        return A.Literal(kind, value, f"datetime({format_datetime(value)})", token.pos)
    if kind == "timespan":
        value = parse_timespan_text(raw)
        if value is None:
            raise bad
        from provision.kql.values import format_timespan

        return A.Literal(kind, value, f"timespan({format_timespan(value)})", token.pos)
    if kind == "guid":
        try:
            value = str(uuid.UUID(raw))
        except ValueError:
            raise bad from None
        return A.Literal(kind, value, f"guid({value})", token.pos)
    if kind in ("int", "long"):
        try:
            value = int(raw, 16) if raw.lower().startswith(("0x", "-0x")) else int(raw)
        except ValueError:
            raise bad from None
        return A.Literal(kind, value, f"{kind}({value})", token.pos)
    if kind == "real":
        low = raw.lower()
        specials = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}
        if low in specials:
            return A.Literal(kind, specials[low], f"real({low})", token.pos)
        try:
            value = float(raw)
        except ValueError:
            raise bad from None
        return A.Literal(kind, value, f"real({raw})", token.pos)
    if kind == "boolean":
        low = raw.lower()
        if low in ("true", "false", "1", "0"):
            return A.Literal(kind, low in ("true", "1"), low if low in ("true", "false") else f"bool({low})", token.pos)
        raise bad
    raise bad


_LITERAL_FIX = {
    "datetime": "write an ISO 8601 date such as datetime(2024-01-31T10:00:00Z)",
    "timespan": "write e.g. timespan(1.02:03:04) or a literal such as 5m",
    "guid": "write a GUID such as guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
    "int": "write an integer", "long": "write an integer", "real": "write a number", "boolean": "write true or false",
}
