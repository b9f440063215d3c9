"""Mutants of a reference module: small wrong solutions a strong hidden suite must reject.

Only the student's part is mutated, the code between `### BEGIN SOLUTION` and
`### END SOLUTION`. Each mutant changes one thing, in the classic operators of
mutation testing (mutmut, cosmic-ray):

- `arithmetic`: `+` and `-` swapped, `*` becomes `/`, `//` becomes `/`, unary minus dropped, ...
- `comparison`: boundaries moved (`<` and `<=`), `==` and `!=`, `in` and `not in`, ...
- `constant`: an int or float one more, `True` and `False` swapped
- `boolean`: `and` and `or` swapped, `not` dropped
- `statement`: a statement dropped (an `if`, a `raise`, `out += bias`, `x = relu(x)`)
- `arguments`: two neighbouring positional arguments swapped

Edits are made on the source text at the node's position, so a mutant's diff is
one or two lines and everything else (comments, layout) stays as written. A
mutant's `id` names the function and the changed line, so it stays the same
when unrelated code moves: equivalent mutants are declared by id (see
`grader.authoring.check`).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import re

from grader.course.stubs import BEGIN, END

#: Bump when the operators change: cached results of older mutants are then recomputed.
MUTATOR_VERSION = "1"

_ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.MatMult: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
}
_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.And: "and",
    ast.Or: "or",
}
_COMPARISON = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
#: Statements whose removal leaves a running but different program.
_DROPPABLE = (
    ast.Expr,
    ast.AugAssign,
    ast.Raise,
    ast.Assert,
    ast.If,
    ast.For,
    ast.While,
    ast.With,
    ast.Delete,
    ast.Continue,
    ast.Break,
)


@dataclasses.dataclass(frozen=True)
class Mutant:
    id: str  #: "<function>: <line as written> -> <line mutated>", stable across unrelated edits
    operator: str  #: arithmetic, comparison, constant, boolean, statement, arguments
    line: int  #: first line changed, in the reference
    source: str  #: the whole mutated module
    diff: str  #: unified diff against the reference, a few lines


@dataclasses.dataclass(frozen=True)
class _Edit:
    start: int  #: character offsets in the source
    end: int
    text: str
    operator: str
    node: ast.AST


def solution_regions(source: str) -> list[tuple[int, int]]:
    """The (first, last) line numbers of each solution region's content, 1-based and inclusive."""
    regions, start = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            start = number + 1
        elif line.strip() == END and start is not None:
            regions.append((start, number - 1))
            start = None
    return regions


def mutants(source: str, filename: str = "<reference>") -> list[Mutant]:
    """Every mutant of the solution regions of `source`, in source order, without duplicates."""
    tree = ast.parse(source, filename=filename)
    regions = solution_regions(source)
    offsets = _Offsets(source)
    finder = _EditFinder(source, offsets, regions)
    finder.visit(tree)
    result: list[Mutant] = []
    seen_sources = {source}
    seen_ids: dict[str, int] = {}
    for edit, qualname in sorted(finder.edits, key=lambda pair: (pair[0].start, pair[0].end)):
        mutated = source[: edit.start] + edit.text + source[edit.end :]
        if mutated in seen_sources or not _parses(mutated):
            continue
        seen_sources.add(mutated)
        before, after = _changed_lines(source, mutated)
        base = f"{qualname}: {before} -> {after}"
        seen_ids[base] = seen_ids.get(base, 0) + 1
        mutant_id = base if seen_ids[base] == 1 else f"{base} ({seen_ids[base]})"
        result.append(Mutant(mutant_id, edit.operator, edit.node.lineno, mutated, _diff(source, mutated, filename)))
    return result


class _Offsets:
    """AST positions (line, UTF-8 byte column) as character offsets into the source."""

    def __init__(self, source: str):
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, line: int, byte_column: int) -> int:
        text = self.lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="ignore")
        return self.starts[line - 1] + len(text)

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.at(node.lineno, node.col_offset), self.at(node.end_lineno, node.end_col_offset)


class _EditFinder(ast.NodeVisitor):
    def __init__(self, source: str, offsets: _Offsets, regions: list[tuple[int, int]]):
        self.source = source
        self.offsets = offsets
        self.regions = regions
        self.edits: list[tuple[_Edit, str]] = []
        self.scope: list[str] = []
        self.bound: list[set[str]] = [set()]
        self.sole: set[int] = set()  #: statements alone in a block whose dropping drops the block

    # -- scopes --------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._statement_edits(node)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(default)
        for decorator in node.decorator_list:
            self.visit(decorator)
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        self.scope.append(node.name)
        self.bound.append({a.arg for a in arguments} | {a.arg for a in (node.args.vararg, node.args.kwarg) if a})
        for statement in node.body[_docstring_count(node) :]:
            self.visit(statement)
        self.bound.pop()
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._statement_edits(node)
        self.scope.append(node.name)
        for statement in node.body[_docstring_count(node) :]:
            self.visit(statement)
        self.scope.pop()

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._statement_edits(node)
        if node.value is not None:
            self.visit(node.value)  # never the annotation

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        pass  # f-strings are messages: mutating them changes nothing graded

    # -- statements ------------------------------------------------------------
    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.stmt):
            self._statement_edits(node)
        super().generic_visit(node)

    def _statement_edits(self, node: ast.stmt) -> None:
        if (
            isinstance(node, (ast.If, ast.For, ast.While, ast.With))
            and len(node.body) == 1
            and not getattr(node, "orelse", None)
        ):
            self.sole.add(id(node.body[0]))  # dropping `if c: raise E` already drops the raise
        if not self._inside(node) or id(node) in self.sole:
            return
        if isinstance(node, ast.Assign):
            if self._rebinds(node):
                self._drop(node)
            for target in node.targets:
                self._bind(target)
        elif isinstance(node, _DROPPABLE) and not _is_docstring(node):
            self._drop(node)
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self._bind(node.target)

    def _rebinds(self, node: ast.Assign) -> bool:
        """`x = f(x)`, `self.conv = ...`, `out[i] = ...`: dropping it leaves the program running.

        A first binding (`N, C, H, W = x.shape`) is kept: without it the code only fails on a NameError.
        """

        def bound(target: ast.AST) -> bool:
            if isinstance(target, ast.Name):
                return target.id in self.bound[-1]
            if isinstance(target, (ast.Tuple, ast.List)):
                return all(bound(element) for element in target.elts)
            return isinstance(target, (ast.Attribute, ast.Subscript))

        return bool(self.scope) and all(bound(t) for t in node.targets)

    def _bind(self, target: ast.AST) -> None:
        for name in ast.walk(target):
            if isinstance(name, ast.Name):
                self.bound[-1].add(name.id)

    def _drop(self, node: ast.stmt) -> None:
        start, end = self.offsets.span(node)
        self._add(_Edit(start, end, "pass", "statement", node))

    # -- expressions -----------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> None:
        if self._inside(node) and not _is_string(node.left) and type(node.op) in _ARITHMETIC:
            self._replace_operator(node.left, node.right, node.op, _ARITHMETIC[type(node.op)](), "arithmetic", node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._statement_edits(node)
        if self._inside(node) and type(node.op) in _ARITHMETIC:
            new = _ARITHMETIC[type(node.op)]()
            self._replace_operator(node.target, node.value, node.op, new, "arithmetic", node, suffix="=")
        self._bind(node.target)
        self.visit(node.value)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if self._inside(node) and isinstance(node.op, (ast.USub, ast.Not, ast.Invert)):
            start, _ = self.offsets.span(node)
            operand_start, end = self.offsets.span(node.operand)
            text = self.source[operand_start:end]
            if _needs_parentheses(node.operand):
                text = f"({text})"
            operator = "boolean" if isinstance(node.op, ast.Not) else "arithmetic"
            self._add(_Edit(start, end, text, operator, node))
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if self._inside(node):
            lefts = [node.left, *node.comparators[:-1]]
            for left, op, right in zip(lefts, node.ops, node.comparators):
                self._replace_operator(left, right, op, _COMPARISON[type(op)](), "comparison", node)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        if self._inside(node):
            new = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            for left, right in zip(node.values, node.values[1:]):
                self._replace_operator(left, right, node.op, new, "boolean", node)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not self._inside(node) or isinstance(node.value, (str, bytes)) or node.value is None:
            return
        if isinstance(node.value, bool):
            text = str(not node.value)
        elif isinstance(node.value, int):
            text = str(node.value + 1)
        elif isinstance(node.value, float):
            text = repr(node.value + 1.0)
        else:
            return
        start, end = self.offsets.span(node)
        self._add(_Edit(start, end, text, "constant", node))

    def visit_Call(self, node: ast.Call) -> None:
        if self._inside(node) and not any(isinstance(a, ast.Starred) for a in node.args):
            for first, second in zip(node.args, node.args[1:]):
                a_start, a_end = self.offsets.span(first)
                b_start, b_end = self.offsets.span(second)
                a_text, b_text = self.source[a_start:a_end], self.source[b_start:b_end]
                if a_text != b_text and _kind(first) == _kind(second):
                    swapped = b_text + self.source[a_end:b_start] + a_text
                    self._add(_Edit(a_start, b_end, swapped, "arguments", node))
        self.generic_visit(node)

    # -- helpers ---------------------------------------------------------------
    def _replace_operator(
        self, left: ast.AST, right: ast.AST, old: ast.AST, new: ast.AST, operator: str, node: ast.AST, suffix: str = ""
    ) -> None:
        _, gap_start = self.offsets.span(left)
        gap_end, _ = self.offsets.span(right)
        found = _find_operator(self.source[gap_start:gap_end], _SYMBOLS[type(old)] + suffix)
        if found is not None:
            start, end = gap_start + found[0], gap_start + found[1]
            self._add(_Edit(start, end, _SYMBOLS[type(new)] + suffix, operator, node))

    def _inside(self, node: ast.AST) -> bool:
        return any(first <= node.lineno and node.end_lineno <= last for first, last in self.regions)

    def _add(self, edit: _Edit) -> None:
        self.edits.append((edit, ".".join(self.scope) or "<module>"))


def _find_operator(gap: str, symbol: str) -> tuple[int, int] | None:
    """Where `symbol` stands in the text between two operands (not inside a longer operator)."""
    if symbol[0].isalpha():
        pattern = r"\b" + r"\s+".join(map(re.escape, symbol.split())) + r"\b"
    else:
        pattern = r"(?<![-+*/%@<>=!&|^~])" + re.escape(symbol) + r"(?![-+*/%@<>=&|^~])"
    gap_code = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), gap)  # a comment between lines
    match = re.search(pattern, gap_code)
    return match.span() if match else None


def _kind(node: ast.AST) -> str:
    """What an argument is, for swaps: two numbers or two expressions swap; a name and a literal do not."""
    if isinstance(node, ast.Constant):
        return "number" if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) else "literal"
    if isinstance(node, (ast.Tuple, ast.List, ast.Dict, ast.Set, ast.JoinedStr, ast.Lambda)):
        return "literal"
    return "expression"


def _needs_parentheses(node: ast.AST) -> bool:
    return not isinstance(node, (ast.Name, ast.Constant, ast.Attribute, ast.Call, ast.Subscript, ast.Tuple, ast.List))


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and _is_string(node.value)


def _docstring_count(node: ast.AST) -> int:
    return 1 if node.body and _is_docstring(node.body[0]) else 0


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def _changed_lines(before: str, after: str) -> tuple[str, str]:
    """The changed lines of each side, whitespace collapsed, long ones cut around the change."""
    old, new = before.splitlines(), after.splitlines()
    first = next(i for i, (a, b) in enumerate(zip(old + [""], new + [""])) if a != b)
    tail = 0
    while tail < min(len(old), len(new)) - first and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_text = " ".join(line.strip() for line in old[first : len(old) - tail])
    new_text = " ".join(line.strip() for line in new[first : len(new) - tail])
    return _window(old_text, new_text)


def _window(old: str, new: str, width: int = 72) -> tuple[str, str]:
    if len(old) <= width and len(new) <= width:
        return old, new
    start = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    left = max(0, start - width // 3)

    def cut(text: str) -> str:
        piece = text[left : left + width]
        return ("…" if left else "") + piece + ("…" if left + width < len(text) else "")

    return cut(old), cut(new)


def _diff(before: str, after: str, filename: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{filename}",
        tofile=f"b/{filename}",
        n=1,
    )
    return "".join(lines)
