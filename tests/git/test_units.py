"""Behaviour of narrator.git.units: functions, classes and methods cut out of six languages."""

from __future__ import annotations

import time

import pytest

from narrator.git.files import SourceFile, language_of
from narrator.git.units import Unit, cut_units


def source(path: str, text: str) -> SourceFile:
    return SourceFile(path=path, text=text, language=language_of(path), size=len(text.encode()))


def table(units: list[Unit]) -> list[tuple[str, str, int, int]]:
    return [(u.kind, u.name, u.start_line, u.end_line) for u in units]


PYTHON = '''\
"""Module doc."""
import os

# Adds numbers.
@cache
def add(a, b):
    return a + b


class Account:
    """A bank account."""

    rate = 0.1

    def deposit(self, amount):
        def check(x):  # nested: part of deposit
            return x > 0
        self.balance += amount

    @property
    def total(self):
        return self.balance

    @total.setter
    def total(self, value):
        self.balance = value

    class History:
        async def load(self):
            pass
'''


def test_python_functions_classes_and_methods():
    units = cut_units(source("bank/account.py", PYTHON))
    assert table(units) == [
        ("function", "add", 4, 7),
        ("class", "Account", 10, 30),
        ("method", "Account.deposit", 15, 18),
        ("method", "Account.total", 20, 22),
        ("method", "Account.total#2", 24, 26),
        ("class", "Account.History", 28, 30),
        ("method", "Account.History.load", 29, 30),
    ]
    add = units[0]
    assert add.path == "bank/account.py"
    assert add.code == "# Adds numbers.\n@cache\ndef add(a, b):\n    return a + b"
    assert "def check" in units[2].code


def test_python_syntax_error_becomes_one_file_unit():
    text = "def broken(:\n    pass\nprint 'python 2'\n"
    [unit] = cut_units(source("old/script.py", text))
    assert (unit.kind, unit.name, unit.start_line, unit.end_line) == ("file", "script.py", 1, 3)
    assert unit.code == text


def test_python_without_definitions_is_one_file_unit():
    [unit] = cut_units(source("settings.py", "DEBUG = True\nNAME = 'x'\n"))
    assert unit.kind == "file" and unit.name == "settings.py"


def test_other_text_is_one_file_unit():
    [unit] = cut_units(source("docs/README.md", "# Title\n\nSome words.\n"))
    assert table([unit]) == [("file", "README.md", 1, 3)]


JAVA = """\
package bank;

/** A bank account. */
@Entity
public class Account {
    private int balance;

    public Account() {}

    /** Adds money. */
    public void deposit(int amount) {
        balance += amount;
    }

    static class Audit {
        void record() {}
    }
}

interface Ledger {
    void post(int amount);
}

enum Kind { SAVINGS; int fee() { return 1; } }
"""


def test_java():
    units = cut_units(source("src/Account.java", JAVA))
    assert table(units) == [
        ("class", "Account", 3, 18),
        ("method", "Account.Account", 8, 8),
        ("method", "Account.deposit", 10, 13),
        ("class", "Account.Audit", 15, 17),
        ("method", "Account.Audit.record", 16, 16),
        ("class", "Ledger", 20, 22),
        ("method", "Ledger.post", 21, 21),
        ("class", "Kind", 24, 24),
        ("method", "Kind.fee", 24, 24),
    ]
    assert units[0].code.startswith("/** A bank account. */\n@Entity\npublic class Account {")
    assert units[2].code.strip().startswith("/** Adds money. */")


JAVASCRIPT = """\
import x from 'y';

/** Sums two numbers. */
export function add(a, b) {
  return a + b;
}

function* ids() { yield 1; }

export class Cart extends Base {
  constructor() { super(); }
  total() { return 0; }
  static empty() { return new Cart(); }
}

const handler = async (req, res) => {
  res.send('ok');
};

let count = 3;
"""


def test_javascript():
    units = cut_units(source("web/cart.js", JAVASCRIPT))
    assert table(units) == [
        ("function", "add", 3, 6),
        ("function", "ids", 8, 8),
        ("class", "Cart", 10, 14),
        ("method", "Cart.constructor", 11, 11),
        ("method", "Cart.total", 12, 12),
        ("method", "Cart.empty", 13, 13),
        ("function", "handler", 16, 18),
    ]
    assert units[0].code.startswith("/** Sums two numbers. */\nexport function add")
    assert units[-1].code.startswith("const handler = async")


PHP = """\
<?php
namespace Shop;

/** Formats a price. */
function price($cents) {
    return $cents / 100;
}

class Cart {
    public function add($item) {
        $this->items[] = $item;
    }
}

interface Payable { public function pay(); }

trait Loggable { function log($m) {} }
"""


def test_php():
    units = cut_units(source("src/cart.php", PHP))
    assert table(units) == [
        ("function", "price", 4, 7),
        ("class", "Cart", 9, 13),
        ("method", "Cart.add", 10, 12),
        ("class", "Payable", 15, 15),
        ("method", "Payable.pay", 15, 15),
        ("class", "Loggable", 17, 17),
        ("method", "Loggable.log", 17, 17),
    ]


RUBY = """\
# Greets someone.
def greet(name)
  "Hello #{name}"
end

class Account < Base
  def deposit(amount)
    @balance += amount
  end

  def self.open
    new
  end

  class << self
    def audit; end
  end
end

module Billing::Tax
  def rate; 0.2; end
end
"""


def test_ruby():
    units = cut_units(source("lib/account.rb", RUBY))
    assert table(units) == [
        ("function", "greet", 1, 4),
        ("class", "Account", 6, 18),
        ("method", "Account.deposit", 7, 9),
        ("method", "Account.open", 11, 13),
        ("method", "Account.audit", 16, 16),
        ("class", "Billing::Tax", 20, 22),
        ("method", "Billing::Tax.rate", 21, 21),
    ]


GO = """\
package bank

// Account holds money.
type Account struct {
	balance int
}

type Store interface {
	Save(a *Account) error
}

type Cents int

// Deposit adds money.
func (a *Account) Deposit(amount int) {
	a.balance += amount
}

func (l List[T]) Len() int { return len(l) }

func NewAccount() *Account {
	return &Account{}
}
"""


def test_go():
    units = cut_units(source("bank/account.go", GO))
    assert table(units) == [
        ("class", "Account", 3, 6),
        ("class", "Store", 8, 10),
        ("method", "Account.Deposit", 14, 17),
        ("method", "List.Len", 19, 19),
        ("function", "NewAccount", 21, 23),
    ]
    assert units[2].code.startswith("// Deposit adds money.\nfunc (a *Account) Deposit")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("a.js", "let x = 1;\nconsole.log(x);\n"),
        ("a.go", "package main\n\nvar x = 1\n"),
        ("a.rb", "puts 'hi'\n"),
        ("a.java", "// nothing here\n"),
        ("a.php", "<html><?php echo 1; ?></html>\n"),
    ],
)
def test_code_without_definitions_is_one_file_unit(path, text):
    [unit] = cut_units(source(path, text))
    assert unit.kind == "file" and unit.name == path and unit.code == text


def test_line_numbers_survive_form_feeds_and_crlf():
    text = "import os\r\n\x0c\r\ndef first():\r\n    pass\r\n\x0c\r\ndef second():\r\n    pass\r\n"
    units = cut_units(source("old.py", text))
    assert table(units) == [("function", "first", 3, 4), ("function", "second", 6, 7)]
    assert units[1].code == "def second():\n    pass"


def test_broken_code_in_a_tree_sitter_language_never_crashes():
    text = "function ok() { return 1; }\nfunction broken( {\n"
    units = cut_units(source("x.js", text))
    assert "ok" in [u.name for u in units]


def test_long_code_is_truncated_within_max_chars():
    body = "".join(f"    total += {i}\n" for i in range(500))
    units = cut_units(source("long.py", f"def long():\n    total = 0\n{body}    return total\n"), max_chars=400)
    [unit] = units
    assert len(unit.code) <= 400
    assert unit.code.startswith("def long():")
    assert unit.code.endswith("more lines not shown)")
    assert unit.end_line == 503  # line numbers still describe the whole function

    [whole_file] = cut_units(source("notes.txt", "line\n" * 1000), max_chars=300)
    assert len(whole_file.code) <= 300


def test_a_long_class_is_shown_as_an_outline():
    methods = "".join(f"    @traced\n    def step_{i}(self):\n" + "        x = 1\n" * 20 + "\n" for i in range(30))
    text = f'class Pipeline:\n    """Runs steps."""\n\n{methods}'
    units = cut_units(source("pipe.py", text), max_chars=2000)
    pipeline = units[0]
    assert (pipeline.kind, pipeline.name) == ("class", "Pipeline")
    assert '"""Runs steps."""' in pipeline.code
    assert "def step_0(self): ..." in pipeline.code and "def step_29(self): ..." in pipeline.code
    assert "x = 1" not in pipeline.code and "@traced ..." not in pipeline.code
    assert len(units) == 31


def test_a_long_java_class_outline_shows_signatures():
    methods = "".join(f"    @Override\n    public int step{i}() {{\n" + "        x++;\n" * 20 + "    }\n" for i in range(30))
    text = f"public class Pipeline {{\n    private int x;\n{methods}}}\n"
    pipeline = cut_units(source("Pipeline.java", text), max_chars=2500)[0]
    assert pipeline.code.startswith("public class Pipeline {\n    private int x;\n")
    assert "    public int step7() { ..." in pipeline.code
    assert "x++" not in pipeline.code and pipeline.code.endswith("}")


def test_large_files_are_cut_quickly():
    text = "".join(f"function f{i}(a) {{\n  return a + {i};\n}}\n" for i in range(3000))
    started = time.monotonic()
    units = cut_units(source("big.js", text))
    assert len(units) == 3000
    assert time.monotonic() - started < 5
