"""Demo catalog for `learnhub serve --demo`: instructors, courses, sections, videos and quizzes.

Pure data. The demo loader feeds these records through the course services; nothing here
touches the database. Video transcripts are real teaching text because the offline AI tutor
answers learners' questions by retrieval over them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoOption:
    text: str
    is_correct: bool


@dataclass(frozen=True)
class DemoQuestion:
    text: str
    type: str  # "single_choice" | "multiple_choice" | "true_false" | "short_answer"
    options: tuple[DemoOption, ...] = ()  # empty for short_answer; "True"/"False" for true_false
    answer_text: str | None = None  # short_answer only; compared case-insensitively


@dataclass(frozen=True)
class DemoQuiz:
    title: str
    pass_mark: int
    max_attempts: int | None
    time_limit_seconds: int | None
    questions: tuple[DemoQuestion, ...]


@dataclass(frozen=True)
class DemoVideo:
    title: str
    url: str
    duration_seconds: int
    transcript: str


@dataclass(frozen=True)
class DemoSection:
    title: str
    videos: tuple[DemoVideo, ...]
    quizzes: tuple[DemoQuiz, ...] = ()


@dataclass(frozen=True)
class DemoCourse:
    title: str
    description: str
    price_amount: str
    currency: str
    difficulty: str  # "beginner" | "intermediate" | "advanced" | "expert"
    tags: tuple[str, ...]
    objectives: tuple[str, ...]
    sections: tuple[DemoSection, ...]
    publish: bool = True


@dataclass(frozen=True)
class DemoInstructor:
    email: str
    display_name: str
    courses: tuple[DemoCourse, ...]


# --- Small constructors that keep the records below readable ------------------------------------


def _video(slug: str, number: int, title: str, seconds: int) -> DemoVideo:
    url = f"https://videos.example.com/{slug}/{number}.mp4"
    return DemoVideo(title, url, seconds, transcript=_TRANSCRIPTS[title])


def _section(title: str, *videos: DemoVideo, quiz: DemoQuiz | None = None) -> DemoSection:
    return DemoSection(title=title, videos=videos, quizzes=(quiz,) if quiz else ())


def _options(texts: tuple[str, ...], correct: tuple[int, ...]) -> tuple[DemoOption, ...]:
    return tuple(DemoOption(text, index in correct) for index, text in enumerate(texts))


def _single(text: str, options: tuple[str, ...], correct: int) -> DemoQuestion:
    return DemoQuestion(text, "single_choice", _options(options, (correct,)))


def _multiple(text: str, options: tuple[str, ...], correct: tuple[int, ...]) -> DemoQuestion:
    return DemoQuestion(text, "multiple_choice", _options(options, correct))


def _true_false(text: str, answer: bool) -> DemoQuestion:
    return DemoQuestion(
        text, "true_false", (DemoOption("True", answer), DemoOption("False", not answer))
    )


def _short(text: str, answer: str) -> DemoQuestion:
    return DemoQuestion(text, "short_answer", answer_text=answer)


# --- Transcripts, keyed by video title (the tutor retrieves answers from these) -----------------

_TRANSCRIPTS: dict[str, str] = {
    # Python Fundamentals
    "Variables and Built-in Types": (
        "Python is dynamically typed: a variable is a name bound to an object, and the same name "
        "can later refer to an object of a different type. The core built-in types are int for "
        "whole numbers, float for floating-point numbers, str for text, bool for True and False, "
        "and None for the absence of a value. The built-in type() function reports a value's type, "
        "so type(3.5) returns the float class. Python integers have arbitrary precision and never "
        "overflow, while floats use IEEE 754 double precision, which is why 0.1 + 0.2 prints "
        "0.30000000000000004. Strings are immutable sequences of Unicode characters, so methods "
        'such as upper() and replace() return new strings. An f-string such as f"Hello {name}" '
        "embeds expressions directly inside a string literal."
    ),
    "Conditionals and Loops": (
        "An if statement runs its block only when the condition is truthy, and elif and else add "
        "further branches. Python marks blocks by indentation, conventionally four spaces per "
        "level. A for loop iterates over any iterable, such as a list, a string or range(5), which "
        "yields the numbers 0 to 4. A while loop repeats as long as its condition stays true, so "
        "its body must eventually make the condition false. The break statement leaves the nearest "
        "loop immediately, and continue skips to the next iteration. Zero, None, the empty string "
        "and empty containers are falsy, so if items: checks that a list is not empty."
    ),
    "Defining Functions": (
        "A function is defined with the def keyword, a name, a parameter list in parentheses and "
        "an indented body. The return statement sends a value back to the caller, and a function "
        "that ends without return gives back None. Parameters can have default values, as in def "
        'greet(name, greeting="Hello"), and callers may pass arguments by keyword to make calls '
        "clearer. Default values are evaluated once, when the function is defined, so a mutable "
        "default such as an empty list is shared between calls; use None and create the list "
        "inside the body instead. Variables assigned inside a function are local to it unless "
        "declared global or nonlocal. A docstring, the string literal on the first line of the "
        "body, documents the function and is shown by help()."
    ),
    "Lists, Dictionaries and Comprehensions": (
        "A list is an ordered, mutable sequence written with square brackets, and append() adds an "
        "item to its end. Indexing starts at zero, and negative indices count from the end, so "
        "items[-1] is the last element. A dictionary maps unique, hashable keys to values, and "
        "d.get(key, default) returns the default instead of raising KeyError when the key is "
        "missing. A list comprehension builds a new list from an iterable in a single expression: "
        "[n * n for n in range(5)] produces [0, 1, 4, 9, 16]. A trailing if clause filters items, "
        "as in [w for w in words if len(w) > 3]. Tuples are immutable, so a tuple of hashable "
        "items can be a dictionary key."
    ),
    # Python Concurrency and Performance
    "Profiling with cProfile and timeit": (
        "Optimisation should start with measurement, because intuition about where a program "
        "spends its time is often wrong. The cProfile module, run as python -m cProfile -s "
        "cumulative script.py, records how often each function is called and how long it takes. In "
        "its report, tottime is the time spent in the function itself, while cumtime also includes "
        "the functions it calls. The timeit module runs a small snippet many times for reliable "
        "micro-benchmarks and disables garbage collection during timing by default. Once the hot "
        "spot is known, an algorithmic change such as replacing a list membership test with a set "
        "lookup usually beats low-level tweaks."
    ),
    "Memory and Data Structures": (
        "Looking up a key in a set or dict takes constant time on average because both are hash "
        "tables, while membership tests on a list take linear time. Generators produce values "
        "lazily, so sum(x * x for x in data) avoids building a large intermediate list. Declaring "
        "__slots__ on a class removes the per-instance __dict__ and can save a lot of memory when "
        "you create millions of objects. The standard library module tracemalloc traces memory "
        "allocations and shows which lines of code allocate the most. A collections.deque appends "
        "and pops quickly at both ends, whereas list.pop(0) must shift every remaining element."
    ),
    "Threads, Processes and the GIL": (
        "In CPython, the global interpreter lock, or GIL, lets only one thread execute Python "
        "bytecode at a time. Threads still help with I/O-bound work, such as waiting for network "
        "responses, because a thread releases the lock while it waits. For CPU-bound work, "
        "multiprocessing or concurrent.futures.ProcessPoolExecutor runs code in separate "
        "processes, each with its own interpreter and its own GIL. Data sent between processes is "
        "pickled, so shipping large objects can erase the speed-up. Python 3.13 added an "
        "experimental free-threaded build that can run without the GIL."
    ),
    "Asyncio Fundamentals": (
        "The asyncio library runs many tasks concurrently on one thread with an event loop. A "
        "coroutine is defined with async def, and await suspends it until the awaited operation "
        "finishes, letting the loop run other tasks in the meantime. Calling asyncio.run(main()) "
        "creates an event loop, runs the coroutine to completion and closes the loop. "
        "asyncio.gather runs several awaitables concurrently and returns their results in the "
        "order they were passed. A blocking call such as time.sleep inside a coroutine freezes the "
        "whole loop, so use await asyncio.sleep, or move blocking work to a thread with "
        "asyncio.to_thread."
    ),
    # Version Control with Git
    "Commits and the Staging Area": (
        "Git is a distributed version control system, so every clone contains the full history of "
        "the project. Changes move through three areas: the working tree where you edit files, the "
        "staging area, also called the index, and the repository history. The git add command "
        "copies the current content of a file into the staging area, and git commit records "
        "everything staged as a new snapshot. Each commit is identified by a hash computed from "
        "its content, its parent commits and its metadata. The git status command shows which "
        "files are modified, staged or untracked, and git log lists commits from newest to oldest. "
        "A good commit message starts with a short summary line of about 50 characters, followed "
        "by a blank line and an explanation of why."
    ),
    "Ignoring Files": (
        "A .gitignore file lists patterns for files Git should not track, such as build output, "
        "virtual environments or editor settings. A pattern ending in a slash, like build/, "
        "matches only directories, and an asterisk matches any characters within a single path "
        "segment. A leading exclamation mark re-includes a file that an earlier pattern excluded. "
        "Ignore rules affect only untracked files, so a file that is already committed stays "
        "tracked until you remove it from the index with git rm --cached. Never commit secrets "
        "such as API keys, because they remain in the history even after the file is deleted."
    ),
    "Branches and Merging": (
        "A branch in Git is simply a movable pointer to a commit, so creating one is cheap. The "
        "command git switch -c feature creates a new branch and switches to it, and HEAD then "
        "points to that branch. When the branch being merged already contains all of your current "
        "commits, Git performs a fast-forward and just moves the pointer; otherwise it creates a "
        "merge commit with two parents. If both branches changed the same lines, Git stops with a "
        "merge conflict and marks the competing versions with <<<<<<<, ======= and >>>>>>> "
        "markers. Resolve it by editing the file, staging it with git add and finishing with git "
        "commit."
    ),
    "Working with Remotes": (
        "A remote is a named reference to another copy of the repository, and the one you cloned "
        "from is called origin by default. The git fetch command downloads new commits and updates "
        "remote-tracking branches such as origin/main without touching your own branches. The git "
        "pull command is a fetch followed by a merge, or a rebase if configured. The git push "
        "command uploads your local commits and is rejected when the remote branch has commits you "
        "do not have yet. Rebasing replays your commits on top of another branch to give a linear "
        "history, but never rebase commits that others have pulled."
    ),
    "Undoing Changes": (
        "The command git restore <file> discards uncommitted changes in the working tree, and git "
        "restore --staged <file> unstages a file while keeping its edits. The git revert command "
        "creates a new commit that undoes an earlier one, which is safe on shared branches because "
        "history is not rewritten. The git reset command moves the current branch to another "
        "commit: --soft keeps the changes staged, the default --mixed leaves them unstaged in the "
        "working tree, and --hard discards them entirely. The git commit --amend command replaces "
        "the most recent commit, for example to fix its message. The reflog records where HEAD has "
        "been, so commits lost after a reset can often be recovered with git reflog."
    ),
    # SQL and Relational Databases
    "Tables, Keys and Relationships": (
        "A relational database stores data in tables, where each row is a record and each column "
        "holds one attribute of a declared type. A primary key uniquely identifies each row and "
        "may not contain NULL. A foreign key is a column whose values must match a key in another "
        "table, which lets the database enforce referential integrity. A one-to-many relationship, "
        "such as one customer with many orders, is modelled by putting the foreign key on the many "
        "side. A many-to-many relationship, such as students and courses, needs a junction table "
        "holding a foreign key to each side. Normalisation stores each fact in one place, "
        "preventing update anomalies."
    ),
    "SELECT, WHERE and ORDER BY": (
        "A SELECT statement lists the columns to return, and FROM names the table to read. WHERE "
        "filters rows before any grouping, using comparisons, AND, OR, IN and LIKE patterns, in "
        "which the percent sign matches any sequence of characters. NULL stands for an unknown "
        "value, so test it with IS NULL rather than = NULL, because any comparison with NULL "
        "yields unknown. ORDER BY sorts the result, ascending by default or descending with DESC. "
        "LIMIT restricts the number of rows returned in PostgreSQL, MySQL and SQLite. Without "
        "ORDER BY, the order of the rows in a result is not guaranteed."
    ),
    "Inner and Outer Joins": (
        "An INNER JOIN returns only the rows that have a match in both tables according to the ON "
        "condition. A LEFT JOIN keeps every row of the left table and fills the right table's "
        "columns with NULL where there is no match. A LEFT JOIN followed by WHERE right_table.id "
        "IS NULL is therefore a common way to find rows without a related record, such as "
        "customers who never placed an order. A RIGHT JOIN is the mirror image, and a FULL OUTER "
        "JOIN keeps unmatched rows from both sides. Aliases, as in FROM orders AS o JOIN customers "
        "AS c ON o.customer_id = c.id, keep join queries readable. Joining on columns without an "
        "index can force the database to scan whole tables."
    ),
    "GROUP BY and Aggregate Functions": (
        "Aggregate functions such as COUNT, SUM, AVG, MIN and MAX compute a single value from many "
        "rows. GROUP BY splits rows into groups that share the same values in the listed columns, "
        "and the aggregates are computed per group. COUNT(*) counts rows, while COUNT(column) "
        "counts only rows where that column is not NULL. HAVING filters groups after aggregation, "
        "so a condition such as HAVING COUNT(*) > 5 cannot be written in WHERE. In standard SQL, "
        "every selected column must appear in GROUP BY or inside an aggregate function."
    ),
    "Transactions and Indexes": (
        "A transaction groups several statements so that either all of them take effect or none "
        "do. The ACID properties are atomicity, consistency, isolation and durability. COMMIT "
        "makes a transaction's changes permanent, and ROLLBACK discards them. An index is a "
        "separate data structure, usually a B-tree, that lets the database find rows by a column's "
        "value without scanning the whole table. Indexes speed up reads but add work to every "
        "INSERT, UPDATE and DELETE, so index the columns you frequently filter, sort or join on."
    ),
    # Practical Statistics for Data Analysis
    "Mean, Median and Mode": (
        "The mean is the sum of the values divided by how many there are, and it is pulled "
        "strongly by outliers. The median is the middle value of the sorted data, or the average "
        "of the two middle values when the count is even, so it is robust to extreme values. The "
        "mode is the most frequent value and is the only one of the three that works for "
        "categorical data. For right-skewed data such as household incomes, the mean is usually "
        "larger than the median. Reporting the median next to the mean quickly reveals skew."
    ),
    "Variance and Standard Deviation": (
        "Variance measures spread as the average squared distance of the values from their mean. "
        "The standard deviation is the square root of the variance, which puts it back in the "
        "units of the data. When estimating from a sample, dividing by n - 1 instead of n, known "
        "as Bessel's correction, gives an unbiased estimate of the population variance. The "
        "interquartile range, the distance between the 25th and 75th percentiles, measures spread "
        "in a way that resists outliers. A box plot shows the median and quartiles and flags "
        "points more than 1.5 times the IQR beyond the quartiles as possible outliers."
    ),
    "The Normal Distribution": (
        "The normal distribution is the symmetric bell-shaped curve defined by its mean and "
        "standard deviation. About 68 percent of values fall within one standard deviation of the "
        "mean, about 95 percent within two and about 99.7 percent within three, which is known as "
        "the empirical rule. A z-score says how many standard deviations a value lies from the "
        "mean: z = (x - mean) / sd. The central limit theorem states that the distribution of "
        "sample means approaches a normal distribution as the sample size grows, even when the "
        "data themselves are not normal. This is why so many inferential methods rely on it."
    ),
    "Sampling and Standard Error": (
        "A sample is useful only if it represents the population, and random sampling is the main "
        "defence against selection bias. A statistic such as the sample mean varies from one "
        "sample to the next, and the standard error measures that variability. The standard error "
        "of the mean equals the standard deviation divided by the square root of the sample size. "
        "Because of the square root, quadrupling the sample size only halves the standard error."
    ),
    "Confidence Intervals": (
        "A confidence interval gives a range of plausible values for a population parameter. For a "
        "mean with a reasonably large sample, a 95 percent interval is approximately the sample "
        "mean plus or minus 1.96 standard errors. The 95 percent describes the procedure: if we "
        "repeated the sampling many times, about 95 percent of the intervals built this way would "
        "contain the true value. It does not mean that this particular interval contains the "
        "parameter with 95 percent probability. Intervals get wider with a higher confidence "
        "level, more variable data or a smaller sample."
    ),
    "Hypothesis Tests and p-values": (
        "A hypothesis test starts from a null hypothesis, usually stating that there is no effect "
        "or no difference. The p-value is the probability of observing data at least as extreme as "
        "the sample, assuming the null hypothesis is true. If the p-value falls below a "
        "significance level chosen in advance, commonly 0.05, we reject the null hypothesis. A "
        "p-value is not the probability that the null hypothesis is true. Rejecting a true null "
        "hypothesis is a Type I error, and failing to reject a false one is a Type II error. "
        "Statistical significance says nothing about the size of an effect, so report an effect "
        "size or a confidence interval as well."
    ),
    # Data Visualisation with Python
    "Choosing the Right Chart": (
        "Start from the question: comparisons between categories suit bar charts, change over time "
        "suits line charts, and relationships between two numeric variables suit scatter plots. A "
        "histogram shows the distribution of one numeric variable by counting values in bins, and "
        "the bin width can change the story it tells. Bar charts should start their value axis at "
        "zero because readers compare the lengths of the bars. Pie charts make precise comparisons "
        "hard because people judge angles and areas less accurately than lengths, so a sorted bar "
        "chart is usually clearer. A horizontal bar chart keeps long category names readable."
    ),
    "Perception and Colour": (
        "Experiments by Cleveland and McGill found that people judge position along a common scale "
        "most accurately, followed by length, while angle, area and colour saturation are judged "
        "less precisely. Use sequential palettes for ordered values, diverging palettes for values "
        "around a meaningful midpoint, and qualitative palettes for unordered categories. Around 8 "
        "percent of men and 0.5 percent of women of Northern European descent have a colour vision "
        "deficiency, most often red-green. Perceptually uniform colour maps such as viridis avoid "
        "the false boundaries that the rainbow colour map creates. Never rely on colour alone: add "
        "labels, shapes or patterns so the chart still works in greyscale."
    ),
    "Figures, Axes and Layers": (
        "In matplotlib, a Figure is the whole canvas and an Axes is one plot area with its own "
        "coordinate system. The recommended object-oriented style starts with fig, ax = "
        "plt.subplots() and then calls methods such as ax.plot, ax.bar and ax.scatter. Each call "
        "adds a layer to the same Axes, so you can combine a line, points and a reference line "
        "drawn with ax.axhline. Labels come from ax.set_xlabel, ax.set_ylabel and ax.set_title, "
        "and fig.savefig writes the figure to a PNG, SVG or PDF file. Passing nrows and ncols to "
        "plt.subplots creates a grid of Axes for small multiples, and sharex or sharey keeps "
        "scales consistent."
    ),
    "Annotation and Decluttering": (
        "Annotations turn a chart into an explanation, and ax.annotate places text, optionally "
        "with an arrow, at a specific data point. Direct labels next to lines are often easier to "
        "read than a separate legend because the eye does not have to travel back and forth. "
        "Remove chart junk such as heavy gridlines, 3D effects and needless borders; in "
        'matplotlib, ax.spines["top"].set_visible(False) hides the top frame line. A title that '
        'states the finding, such as "Sales doubled after the redesign", beats a generic label.'
    ),
    # Web Accessibility Essentials
    "WCAG and the POUR Principles": (
        "The Web Content Accessibility Guidelines, or WCAG, are published by the W3C and group "
        "their success criteria under four principles: perceivable, operable, understandable and "
        "robust, often abbreviated as POUR. Each success criterion has a conformance level of A, "
        "AA or AAA, and most laws and policies require level AA. WCAG 2.2 became a W3C "
        "Recommendation in October 2023 and added criteria such as a minimum target size and "
        "accessible authentication. Accessibility helps people with permanent disabilities and "
        "also people with temporary or situational limitations, such as a broken arm or glare on a "
        "screen. Automated checkers find only some problems, so manual testing is essential."
    ),
    "Semantic HTML": (
        "Native HTML elements carry semantics that assistive technologies understand: a button "
        "element is focusable, announced as a button and activated with Enter or Space without "
        "extra code. Headings from h1 to h6 form an outline that screen reader users navigate by, "
        "so do not skip levels just to get a smaller font. Landmark elements such as header, nav, "
        "main and footer let users jump straight to regions of a page. Every image needs an alt "
        "attribute: informative images get a concise description, while decorative images use an "
        'empty alt="" so screen readers skip them. Form inputs need an associated label, usually a '
        "label element whose for attribute matches the input's id. The first rule of ARIA is to "
        "prefer a native element over adding ARIA roles to a generic div."
    ),
    "Keyboard Accessibility": (
        "Every interactive feature must work with a keyboard alone, because many people cannot use "
        "a mouse. Tab moves focus forward through interactive elements, Shift+Tab moves it "
        "backwards, and the focus order should follow the visual reading order. Never remove the "
        "focus indicator with outline: none unless you provide a clearly visible replacement. A "
        "tabindex of 0 adds a custom element to the natural tab order, while a positive tabindex "
        "overrides that order and should be avoided. A skip link at the top of the page lets "
        "keyboard users bypass repeated navigation. A modal dialog should move focus inside when "
        "it opens, keep it there, and return it to the triggering control when it closes."
    ),
    "Colour Contrast": (
        "WCAG level AA requires a contrast ratio of at least 4.5:1 between normal text and its "
        "background. Large text, meaning at least 18 point or 14 point bold, needs a ratio of at "
        "least 3:1. Contrast ratios range from 1:1 for identical colours to 21:1 for black on "
        "white. Information must not be conveyed by colour alone, so an invalid form field should "
        "show an icon or a message as well as a red border. The developer tools of major browsers "
        "include a contrast checker that computes the ratio of two colours."
    ),
    "Testing with a Screen Reader": (
        "Screen readers such as NVDA and JAWS on Windows, VoiceOver on macOS and iOS, and TalkBack "
        "on Android turn a page into speech or braille. Their users often navigate by headings, "
        "landmarks, links or form controls instead of reading from top to bottom. When testing, "
        "check that every control announces a meaningful name, role and state, for example a "
        "checkbox announced as Subscribe, checkbox, not checked. Dynamic updates such as form "
        "errors can be announced through an aria-live region. Testing with disabled users reveals "
        "problems no checklist catches."
    ),
    # The Science of Cooking
    "How Heat Moves Through Food": (
        "Heat reaches food in three ways: conduction through direct contact, convection through "
        "moving air or liquid, and radiation such as the infrared heat of a grill. Conduction "
        "inside food is slow, and the time needed to cook through grows roughly with the square of "
        "the thickness, so a thick roast takes far longer than a thin steak. Water boils at 100 "
        "degrees Celsius at sea level, so food simmering in water cannot get hotter than that, and "
        "at high altitude water boils at a lower temperature. The centre of a roast keeps rising "
        "by a few degrees after it leaves the oven, an effect called carryover cooking. A probe "
        "thermometer is the most reliable way to tell when meat is done."
    ),
    "The Maillard Reaction and Caramelisation": (
        "The Maillard reaction, a family of reactions between amino acids and reducing sugars, "
        "creates the brown colour and savoury aromas of seared meat, toast and roasted coffee. It "
        "becomes fast at surface temperatures of roughly 140 to 165 degrees Celsius, which a wet "
        "surface cannot reach, so patting food dry improves browning. Crowding a pan traps steam "
        "and keeps the surface too cool to brown. Caramelisation is different: it is the breakdown "
        "of sugar itself, and table sugar starts to caramelise at about 160 degrees Celsius. The "
        "Maillard reaction is named after the French chemist Louis-Camille Maillard, who described "
        "it in 1912."
    ),
    "Salt, Acid and Fat": (
        "Salt enhances flavour and suppresses bitterness. Salting meat well in advance, called dry "
        "brining, lets the salt dissolve some muscle proteins so the meat holds on to more "
        "moisture as it cooks. Acids such as lemon juice or vinegar brighten flavours and cut "
        "through richness. Acid also denatures proteins, which is how the citrus juice in ceviche "
        "turns raw fish opaque without heat. Many aroma compounds dissolve in fat rather than "
        "water, so blooming spices in hot oil releases more of their flavour. When a dish tastes "
        "flat, a pinch of salt or a squeeze of lemon often fixes it."
    ),
    "Emulsions, Gluten and Leavening": (
        "An emulsion is a mixture of two liquids that normally do not mix, such as oil and water, "
        "with tiny droplets of one dispersed in the other. Mayonnaise is stabilised by lecithin "
        "from egg yolk, an emulsifier whose molecules have one end attracted to water and the "
        "other to fat. Adding the oil too quickly overwhelms the emulsifier and makes the sauce "
        "split. Gluten forms when the wheat proteins glutenin and gliadin are hydrated and "
        "kneaded, creating an elastic network that traps gas in bread dough. Baking soda is sodium "
        "bicarbonate and needs an acid such as buttermilk to release carbon dioxide, while baking "
        "powder already contains both the base and a dry acid."
    ),
}


# --- Quizzes ------------------------------------------------------------------------------------

_PYTHON_QUIZ = DemoQuiz(
    title="Python Fundamentals Quiz",
    pass_mark=70,
    max_attempts=3,
    time_limit_seconds=600,
    questions=(
        _single(
            "What does [n * n for n in range(4)] evaluate to?",
            ("[1, 4, 9, 16]", "[0, 1, 4, 9]", "[0, 2, 4, 6]", "[0, 1, 2, 3]"),
            correct=1,
        ),
        _multiple(
            "Which of these values are falsy in Python?",
            ("0", '"" (the empty string)', "[0]", "None"),
            correct=(0, 1, 3),
        ),
        _true_false("Strings are mutable, so s.upper() changes s in place.", False),
        _short("Which keyword starts a function definition in Python?", "def"),
        _single(
            "What does a function return if it ends without a return statement?",
            ("0", "False", "None", "An empty string"),
            correct=2,
        ),
    ),
)

_SQL_QUIZ = DemoQuiz(
    title="SQL Checkpoint",
    pass_mark=70,
    max_attempts=None,
    time_limit_seconds=600,
    questions=(
        _single(
            "Which join keeps every row of the left table, even without a match?",
            ("INNER JOIN", "LEFT JOIN", "CROSS JOIN", "RIGHT JOIN"),
            correct=1,
        ),
        _multiple(
            "Which of these are aggregate functions?",
            ("COUNT", "SUM", "LIKE", "AVG"),
            correct=(0, 1, 3),
        ),
        _true_false("WHERE column = NULL finds the rows whose column is NULL.", False),
        _short("Which clause filters groups after GROUP BY has been applied?", "HAVING"),
        _true_false("Adding an index to a table can make INSERT statements slower.", True),
    ),
)

_GIT_QUIZ = DemoQuiz(
    title="Git Essentials Quiz",
    pass_mark=60,
    max_attempts=3,
    time_limit_seconds=None,
    questions=(
        _single(
            "Which command undoes an earlier commit by adding a new commit?",
            ("git reset --hard", "git revert", "git restore", "git commit --amend"),
            correct=1,
        ),
        _multiple(
            "Which statements about git fetch are true?",
            (
                "It downloads new commits from a remote",
                "It updates remote-tracking branches such as origin/main",
                "It merges the downloaded commits into your current branch",
                "It deletes local branches that no longer exist on the remote",
            ),
            correct=(0, 1),
        ),
        _true_false("A branch in Git is a movable pointer to a commit.", True),
        _short("Which git subcommand records the staged changes as a new snapshot?", "commit"),
    ),
)

_STATISTICS_QUIZ = DemoQuiz(
    title="Statistics Quiz",
    pass_mark=75,
    max_attempts=None,
    time_limit_seconds=600,
    questions=(
        _single(
            "In a normal distribution, roughly what share of values lies within two "
            "standard deviations of the mean?",
            ("68%", "90%", "95%", "99.7%"),
            correct=2,
        ),
        _multiple(
            "Which of these summaries are robust to outliers?",
            ("The median", "The mean", "The interquartile range", "The range"),
            correct=(0, 2),
        ),
        _true_false("A p-value of 0.03 means a 3% chance that the null hypothesis is true.", False),
        _short("What is the middle value of a sorted data set called?", "median"),
        _single(
            "If you quadruple the sample size, what happens to the standard error of the mean?",
            ("It is halved", "It is quartered", "It doubles", "It stays the same"),
            correct=0,
        ),
    ),
)

_VISUALISATION_QUIZ = DemoQuiz(
    title="Data Visualisation Quiz",
    pass_mark=80,
    max_attempts=3,
    time_limit_seconds=None,
    questions=(
        _single(
            "Which chart type best shows the distribution of a single numeric variable?",
            ("Pie chart", "Histogram", "Line chart", "Stacked area chart"),
            correct=1,
        ),
        _multiple(
            "Which practices help readers with colour vision deficiency?",
            (
                "Using a perceptually uniform palette such as viridis",
                "Separating series only by red versus green",
                "Adding direct labels or distinct markers",
                "Using a rainbow colour map",
            ),
            correct=(0, 2),
        ),
        _true_false("Bar charts should normally start their value axis at zero.", True),
        _short(
            "Which pyplot function creates a figure and its axes in one call? "
            "Give the name without the plt. prefix.",
            "subplots",
        ),
    ),
)

_ACCESSIBILITY_QUIZ = DemoQuiz(
    title="Accessibility Check",
    pass_mark=70,
    max_attempts=3,
    time_limit_seconds=600,
    questions=(
        _single(
            "What minimum contrast ratio does WCAG level AA require for normal-size text?",
            ("3:1", "4.5:1", "7:1", "21:1"),
            correct=1,
        ),
        _multiple(
            "Which of these are WCAG principles?",
            ("Perceivable", "Operable", "Profitable", "Robust"),
            correct=(0, 1, 3),
        ),
        _true_false("Decorative images should have an empty alt attribute.", True),
        _short("Which HTML attribute gives an image its text alternative?", "alt"),
        _true_false("A positive tabindex is the recommended way to fix focus order.", False),
    ),
)

_COOKING_QUIZ = DemoQuiz(
    title="Kitchen Science Quiz",
    pass_mark=60,
    max_attempts=None,
    time_limit_seconds=None,
    questions=(
        _single(
            "Which reaction between amino acids and sugars browns a seared steak?",
            ("Caramelisation", "The Maillard reaction", "Fermentation", "Saponification"),
            correct=1,
        ),
        _multiple(
            "Which of these help food brown in a frying pan?",
            (
                "Patting the surface dry",
                "Crowding the pan",
                "Preheating the pan well",
                "Adding water to the pan",
            ),
            correct=(0, 2),
        ),
        _true_false("Baking soda needs an acidic ingredient to release carbon dioxide.", True),
        _short("Which emulsifier in egg yolk stabilises mayonnaise?", "lecithin"),
    ),
)

# --- Courses ------------------------------------------------------------------------------------

_PY = "python-fundamentals"
_PYTHON_FUNDAMENTALS = DemoCourse(
    title="Python Fundamentals",
    description=(
        "A gentle, hands-on introduction to programming with Python 3: values and types, control "
        "flow, functions and the built-in collections you will use every day."
    ),
    price_amount="0.00",
    currency="USD",
    difficulty="beginner",
    tags=("python", "programming", "beginner-friendly"),
    objectives=(
        "Write and run small Python scripts using variables and built-in types",
        "Control program flow with conditionals and loops",
        "Organise code into reusable functions with parameters and return values",
        "Process collections with lists, dictionaries and comprehensions",
    ),
    sections=(
        _section(
            "Getting Started with Python",
            _video(_PY, 1, "Variables and Built-in Types", 540),
            _video(_PY, 2, "Conditionals and Loops", 660),
        ),
        _section(
            "Functions and Collections",
            _video(_PY, 3, "Defining Functions", 720),
            _video(_PY, 4, "Lists, Dictionaries and Comprehensions", 840),
            quiz=_PYTHON_QUIZ,
        ),
    ),
)

_PERF = "python-concurrency-and-performance"
_PYTHON_PERFORMANCE = DemoCourse(
    title="Python Concurrency and Performance",
    description=(
        "Profile real programs, pick the right data structures and choose between threads, "
        "processes and asyncio for fast, scalable Python services."
    ),
    price_amount="79.00",
    currency="USD",
    difficulty="expert",
    tags=("python", "performance", "programming"),
    objectives=(
        "Find performance bottlenecks with cProfile, timeit and tracemalloc",
        "Choose data structures by their algorithmic cost",
        "Explain how the global interpreter lock affects threads and processes",
        "Write concurrent I/O code with asyncio without blocking the event loop",
    ),
    sections=(
        _section(
            "Measuring Before Optimising",
            _video(_PERF, 1, "Profiling with cProfile and timeit", 720),
            _video(_PERF, 2, "Memory and Data Structures", 600),
        ),
        _section(
            "Concurrency Models",
            _video(_PERF, 3, "Threads, Processes and the GIL", 960),
            _video(_PERF, 4, "Asyncio Fundamentals", 840),
        ),
    ),
    publish=False,
)

_GIT = "version-control-with-git"
_VERSION_CONTROL = DemoCourse(
    title="Version Control with Git",
    description=(
        "Learn how Git records history, how to branch and merge with confidence, and how to "
        "collaborate through remotes and recover from mistakes."
    ),
    price_amount="19.99",
    currency="EUR",
    difficulty="beginner",
    tags=("git", "programming", "beginner-friendly"),
    objectives=(
        "Explain the working tree, the staging area and commits",
        "Create branches, merge them and resolve merge conflicts",
        "Collaborate through remotes with fetch, pull and push",
        "Undo mistakes safely with restore, revert and reset",
    ),
    sections=(
        _section(
            "Git Basics",
            _video(_GIT, 1, "Commits and the Staging Area", 600),
            _video(_GIT, 2, "Ignoring Files", 240),
        ),
        _section(
            "Branching and Collaboration",
            _video(_GIT, 3, "Branches and Merging", 840),
            _video(_GIT, 4, "Working with Remotes", 720),
            _video(_GIT, 5, "Undoing Changes", 600),
            quiz=_GIT_QUIZ,
        ),
    ),
)

_SQL = "sql-and-relational-databases"
_SQL_DATABASES = DemoCourse(
    title="SQL and Relational Databases",
    description=(
        "Design sound relational schemas and write the SQL to query them: filtering, joins, "
        "aggregation, transactions and indexes, with examples that run on PostgreSQL and SQLite."
    ),
    price_amount="29.99",
    currency="USD",
    difficulty="intermediate",
    tags=("sql", "databases", "data"),
    objectives=(
        "Design normalised tables with primary and foreign keys",
        "Write SELECT queries that filter, sort and aggregate rows",
        "Combine tables with inner and outer joins",
        "Use transactions and indexes appropriately",
    ),
    sections=(
        _section(
            "The Relational Model",
            _video(_SQL, 1, "Tables, Keys and Relationships", 600),
        ),
        _section(
            "Querying Data",
            _video(_SQL, 2, "SELECT, WHERE and ORDER BY", 780),
            _video(_SQL, 3, "Inner and Outer Joins", 900),
        ),
        _section(
            "Aggregation and Transactions",
            _video(_SQL, 4, "GROUP BY and Aggregate Functions", 720),
            _video(_SQL, 5, "Transactions and Indexes", 660),
            quiz=_SQL_QUIZ,
        ),
    ),
)

_STATS = "practical-statistics-for-data-analysis"
_STATISTICS = DemoCourse(
    title="Practical Statistics for Data Analysis",
    description=(
        "The statistics every analyst needs: describing data, probability distributions, "
        "confidence intervals and hypothesis tests, explained with intuition before formulas."
    ),
    price_amount="49.00",
    currency="USD",
    difficulty="intermediate",
    tags=("statistics", "data"),
    objectives=(
        "Summarise data with measures of centre and spread",
        "Reason about sampling and the normal distribution",
        "Build and interpret confidence intervals",
        "Run hypothesis tests and interpret p-values correctly",
    ),
    sections=(
        _section(
            "Describing Data",
            _video(_STATS, 1, "Mean, Median and Mode", 540),
            _video(_STATS, 2, "Variance and Standard Deviation", 660),
        ),
        _section(
            "Probability and Sampling",
            _video(_STATS, 3, "The Normal Distribution", 720),
            _video(_STATS, 4, "Sampling and Standard Error", 480),
        ),
        _section(
            "Statistical Inference",
            _video(_STATS, 5, "Confidence Intervals", 780),
            _video(_STATS, 6, "Hypothesis Tests and p-values", 900),
            quiz=_STATISTICS_QUIZ,
        ),
    ),
)

_VIS = "data-visualisation-with-python"
_DATA_VISUALISATION = DemoCourse(
    title="Data Visualisation with Python",
    description=(
        "Turn data into honest, readable charts: choose the right chart, encode values the way "
        "human perception works, and build polished figures with matplotlib."
    ),
    price_amount="39.00",
    currency="EUR",
    difficulty="advanced",
    tags=("data", "visualisation", "python"),
    objectives=(
        "Choose a chart type that fits the question and the data",
        "Apply perceptual principles to encode values accurately",
        "Build layered, annotated figures with matplotlib",
        "Design colour palettes that work for colour-blind readers",
    ),
    sections=(
        _section(
            "Principles of Visual Encoding",
            _video(_VIS, 1, "Choosing the Right Chart", 660),
            _video(_VIS, 2, "Perception and Colour", 780),
        ),
        _section(
            "Building Charts with Matplotlib",
            _video(_VIS, 3, "Figures, Axes and Layers", 900),
            _video(_VIS, 4, "Annotation and Decluttering", 600),
            quiz=_VISUALISATION_QUIZ,
        ),
    ),
)

_A11Y = "web-accessibility-essentials"
_WEB_ACCESSIBILITY = DemoCourse(
    title="Web Accessibility Essentials",
    description=(
        "Build websites everyone can use: the WCAG guidelines, semantic HTML, keyboard support, "
        "colour contrast and testing with screen readers."
    ),
    price_amount="0.00",
    currency="EUR",
    difficulty="intermediate",
    tags=("accessibility", "web", "html"),
    objectives=(
        "Explain the WCAG principles and conformance levels",
        "Write semantic HTML that works with assistive technology",
        "Make interfaces fully operable with a keyboard",
        "Check colour contrast and test pages with a screen reader",
    ),
    sections=(
        _section(
            "Accessibility Foundations",
            _video(_A11Y, 1, "WCAG and the POUR Principles", 600),
            _video(_A11Y, 2, "Semantic HTML", 780),
        ),
        _section(
            "Operable and Perceivable Interfaces",
            _video(_A11Y, 3, "Keyboard Accessibility", 660),
            _video(_A11Y, 4, "Colour Contrast", 420),
            _video(_A11Y, 5, "Testing with a Screen Reader", 900),
            quiz=_ACCESSIBILITY_QUIZ,
        ),
    ),
)

_COOK = "the-science-of-cooking"
_COOKING_SCIENCE = DemoCourse(
    title="The Science of Cooking",
    description=(
        "Why recipes work: heat transfer, browning reactions, salt and acid, emulsions and "
        "leavening, explained so you can cook better without a recipe."
    ),
    price_amount="24.99",
    currency="EUR",
    difficulty="beginner",
    tags=("cooking", "science", "beginner-friendly"),
    objectives=(
        "Explain how heat moves through food by conduction, convection and radiation",
        "Use the Maillard reaction and caramelisation to build flavour",
        "Balance dishes with salt, acid and fat",
        "Control emulsions, gluten and leavening in everyday recipes",
    ),
    sections=(
        _section(
            "Heat and Browning",
            _video(_COOK, 1, "How Heat Moves Through Food", 600),
            _video(_COOK, 2, "The Maillard Reaction and Caramelisation", 720),
        ),
        _section(
            "Chemistry in the Kitchen",
            _video(_COOK, 3, "Salt, Acid and Fat", 540),
            _video(_COOK, 4, "Emulsions, Gluten and Leavening", 780),
            quiz=_COOKING_QUIZ,
        ),
    ),
)

# --- Instructors --------------------------------------------------------------------------------

DEMO_INSTRUCTORS: tuple[DemoInstructor, ...] = (
    DemoInstructor(
        email="ada.instructor@example.com",
        display_name="Ada Okafor",
        courses=(_PYTHON_FUNDAMENTALS, _VERSION_CONTROL, _PYTHON_PERFORMANCE),
    ),
    DemoInstructor(
        email="grace.instructor@example.com",
        display_name="Grace Lindqvist",
        courses=(_SQL_DATABASES, _STATISTICS, _DATA_VISUALISATION),
    ),
    DemoInstructor(
        email="marco.instructor@example.com",
        display_name="Marco Bellini",
        courses=(_WEB_ACCESSIBILITY, _COOKING_SCIENCE),
    ),
)
