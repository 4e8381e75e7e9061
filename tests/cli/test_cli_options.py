# SPDX-License-Identifier: MIT
"""Help and parser cannot drift apart. For every command, each option line of its --help names
an option its parser accepts, and every option name that any command documents is rejected as
unknown by each command whose --help does not list it. The option lines and the parser are
built from one table per command (src/cli/cli_options.h); this checks it end to end, through the
binary, so a command that parses an option outside its table is caught too."""
import re
import unittest

from clitest import SOURCE_DIR, CliTestCase

# (command words, how an unknown option is reported)
COMMANDS = [
    (["info"], "unknown option '{}'"),
    (["run"], "unknown option '{}'"),
    (["repeat"], "unknown option '{}'"),
    (["ab"], "unknown option '{}'"),
    (["sweep"], "unknown option '{}'"),
    (["watch"], "unknown option '{}'"),
    (["idle"], "unknown option '{}'"),
    (["compare"], "unknown option '{}'"),
    (["serve"], "unknown option '{}'"),
    (["restore"], "unknown option '{}'"),
    (["sim", "thermal"], "bad option '{}'"),
]

# "  -q, --quiet   text", "  --json FILE   text", "  -n N   text", "  --sim [PROFILE]  text"
OPTION_LINE = re.compile(r"^  (?:-(?P<short>[A-Za-z0-9])(?:, )?)?(?:--(?P<long>[a-z][a-z0-9-]*))?"
                         r"(?P<arg> \[?[A-Z][A-Za-z.]*\]?)?(?:\s|$)")
SENTINEL = "--zz-not-an-option"


def help_options(text):
    """The options of a --help text: [(word, takes a value, value optional)]."""
    found = []
    for line in text.splitlines():
        m = OPTION_LINE.match(line)
        if not m or not (m.group("short") or m.group("long")):
            continue
        arg = (m.group("arg") or "").strip()
        if m.group("short"):
            found.append(("-" + m.group("short"), bool(arg), arg.startswith("[")))
        if m.group("long"):
            found.append(("--" + m.group("long"), bool(arg), arg.startswith("[")))
    return found


class HelpMatchesParser(CliTestCase):
    def setUp(self):
        super().setUp()
        self.scenario = f"{SOURCE_DIR}/scenarios/demo.scn"
        self.helps = {}
        for words, _ in COMMANDS:
            p = self.joules(*words, "--help")
            self.assertExit(p, 0)
            self.helps[" ".join(words)] = help_options(p.stdout)

    def value_for(self, option):
        if option == "--scenario":
            return self.scenario
        if option in ("--json", "--csv", "--svg", "--plot", "--series"):
            return self.path("out" + option[2:])
        return "1"

    def test_every_command_lists_options(self):
        for name, options in self.helps.items():
            words = [w for w, _, _ in options]
            self.assertIn("--help", words, name)
            self.assertEqual(len(words), len(set(words)), f"{name}: an option listed twice")

    def test_every_listed_option_is_accepted(self):
        for words, unknown in COMMANDS:
            for option, takes_value, optional in self.helps[" ".join(words)]:
                args = [option]
                if takes_value and not optional:
                    args.append(self.value_for(option))
                p = self.joules(*words, *args, SENTINEL)
                msg = f"joules {' '.join(words)} {' '.join(args)}: {p.stderr}"
                if option in ("-h", "--help"):
                    self.assertExit(p, 0)
                    self.assertIn("Usage: joules", p.stdout, msg)
                    continue
                self.assertEqual(p.returncode, 2, msg)
                self.assertNotIn(unknown.format(option), p.stderr, msg)
                self.assertNotIn("needs a value", p.stderr, msg)
                self.assertNotIn("takes no value", p.stderr, msg)

    def test_unlisted_options_are_rejected(self):
        everywhere = {w for options in self.helps.values() for w, _, _ in options}
        for words, unknown in COMMANDS:
            listed = {w for w, _, _ in self.helps[" ".join(words)]}
            for option in sorted(everywhere - listed):
                p = self.joules(*words, option, "1")
                self.assertEqual(p.returncode, 2, f"joules {' '.join(words)} {option}: {p.stderr}")
                self.assertIn(unknown.format(option), p.stderr,
                              f"joules {' '.join(words)} accepts {option}, which its --help "
                              f"does not list")


if __name__ == "__main__":
    unittest.main()
