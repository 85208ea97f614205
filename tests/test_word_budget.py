"""The reader's time is the budget: words of prose in each part of the page.

Counts the words of the markdown cells (display and inline maths, code
and inline code, link targets and MyST directive lines removed) in
the parts that issue 18 budgets. Run it as a script to print the counts:

    python tests/test_word_budget.py
"""

import re

import jupytext
from conftest import NOTEBOOK

BUDGETS = {
    "top of the page to the end of section 4": 2_800,
    "section 5, Next steps and In practice": 1_800,
    "section 5 before its first code cell": 250,
    "exercises (On your own)": 2_200,
}
REMOVED = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display maths
    re.compile(r"^```.*$", re.M),  # directive lines (an exercise's text stays)
    re.compile(r":::.*?$", re.M),  # colon-fence directive lines
    re.compile(r"\$[^$\n]+\$"),  # inline maths
    re.compile(r"`[^`\n]+`"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link targets: [words](url) keeps the words
    re.compile(r"^:\w[\w-]*:.*$", re.M),  # directive options
]
WORD = re.compile(r"[A-Za-z0-9][\w'’,.-]*")


def prose_words(markdown):
    for pattern in REMOVED:
        markdown = pattern.sub(" ", markdown)
    return len(WORD.findall(markdown))


def word_counts(path=NOTEBOOK):
    counts = dict.fromkeys(BUDGETS, 0)
    part = "top of the page to the end of section 4"
    before_first_code = False
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code":
            before_first_code = False
            continue
        # a markdown cell runs from one code cell to the next: split it at
        # its level-2 headings, where the parts begin
        for chunk in re.split(r"(?m)^(?=## )", cell.source):
            if chunk.startswith("## 5."):
                part = "section 5, Next steps and In practice"
                before_first_code = True
            elif chunk.startswith("## On your own"):
                part = "exercises (On your own)"
            elif chunk.startswith("## Further reading"):
                part = None
            if part:
                words = prose_words(chunk)
                counts[part] += words
                if before_first_code:
                    counts["section 5 before its first code cell"] += words
    return counts


def test_each_part_of_the_page_keeps_its_word_budget():
    over = {
        part: f"{count} words, budget {BUDGETS[part]}"
        for part, count in word_counts().items()
        if count > BUDGETS[part]
    }
    assert not over, over


if __name__ == "__main__":
    for part, count in word_counts().items():
        print(f"{part:42s} {count:5d} words (budget {BUDGETS[part]:,})")
