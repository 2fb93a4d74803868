"""Small word lists for `learnhub seed`: enough variety for realistic-looking catalogs,
reviews and transcripts without a fake-data library. No entry contains a quote or a backslash,
so generated text needs no JSON escaping beyond what `json.dumps` does anyway."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Anika", "Ben", "Carla", "Chen", "Dario", "Elena", "Emeka",
    "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jonas", "Kai", "Lara",
    "Leila", "Liam", "Mei", "Marta", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn",
    "Rafael", "Rosa", "Sami", "Sofia", "Tariq", "Tess", "Umar", "Vera", "Wen", "Yara",
    "Yusuf", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Ali", "Andersen", "Banerjee", "Becker", "Costa", "Dubois", "Eze", "Fischer",
    "Garcia", "Haddad", "Ito", "Jansen", "Kowalski", "Larsen", "Lopez", "Mensah", "Moreau",
    "Nakamura", "Novak", "Okafor", "Olsen", "Petrov", "Quispe", "Rossi", "Sato", "Schmidt",
    "Silva", "Tanaka", "Umarov", "Varga", "Wagner", "Weber", "Xu", "Yilmaz", "Zhang",
)  # fmt: skip

TOPICS = (
    ("Python", "python"), ("SQL", "sql"), ("PostgreSQL", "postgresql"), ("Data Analysis", "data"),
    ("Machine Learning", "machine-learning"), ("Statistics", "statistics"), ("Web APIs", "web"),
    ("JavaScript", "javascript"), ("TypeScript", "typescript"), ("React", "react"),
    ("Rust", "rust"), ("Go", "go"), ("Docker", "docker"), ("Kubernetes", "kubernetes"),
    ("Linux", "linux"), ("Git", "git"), ("Cloud Architecture", "cloud"),
    ("Cybersecurity", "security"), ("UX Design", "design"), ("Product Management", "product"),
    ("Photography", "photography"), ("Music Theory", "music"), ("Spanish", "languages"),
    ("Public Speaking", "communication"), ("Personal Finance", "finance"),
    ("Digital Marketing", "marketing"), ("Algorithms", "algorithms"), ("Excel", "spreadsheets"),
)  # fmt: skip

EXTRA_TAGS = (
    "beginner-friendly", "hands-on", "career", "projects", "fundamentals", "advanced",
    "certification", "best-practices", "interview-prep", "quick-start",
)  # fmt: skip

TITLE_PREFIXES = (
    "Practical", "Modern", "Complete", "Hands-on", "Essential", "Applied", "Mastering",
    "Introduction to", "Advanced", "Everyday", "Professional", "The Art of",
)  # fmt: skip

TITLE_SUFFIXES = (
    "", "", "for Beginners", "in Practice", "from Scratch", "Bootcamp", "Deep Dive",
    "for Professionals", "Step by Step", "Crash Course", "Workshop", "Masterclass",
)  # fmt: skip

SECTION_TITLES = (
    "Getting Started", "Core Concepts", "First Steps", "Foundations", "Working Examples",
    "Setting Up", "The Big Picture", "Building Blocks",
)  # fmt: skip

VIDEO_TOPICS = (
    "Overview", "Setting Up Your Environment", "Key Terms", "A First Example",
    "Common Mistakes", "Under the Hood", "Testing Your Work", "Performance Tips",
    "Debugging", "Real-World Case Study", "Best Practices", "Putting It Together",
    "Review and Next Steps", "Tools of the Trade", "Patterns", "Troubleshooting",
)  # fmt: skip

DESCRIPTION_SENTENCES = (
    "You will learn {topic} by building small, working examples from the first lesson.",
    "Each lesson is short and focused, with exercises that check your understanding.",
    "We start from the basics of {topic} and finish with techniques used in production.",
    "No prior experience is needed; curiosity and a laptop are enough.",
    "By the end you will read, write and reason about {topic} with confidence.",
    "Real examples from industry show where {topic} pays off and where it does not.",
    "The course favours practice over theory, with a project at the end.",
    "Along the way you will pick up habits that make your work easier to maintain.",
)  # fmt: skip

TRANSCRIPT_SENTENCES = (
    "In this video we look at {lesson} in {topic}.",
    "Let us start with a small example and build on it step by step.",
    "Notice how the result changes when we adjust a single input.",
    "A common mistake here is to skip the setup, so take a moment to check it.",
    "This idea comes up again later, so it is worth remembering.",
    "Pause the video and try the exercise before you watch the solution.",
    "Here is the same example written in a clearer and shorter way.",
    "To summarise, {lesson} gives you a reliable starting point for {topic}.",
)  # fmt: skip

REVIEW_BODIES = {
    1: ("Not what I expected.", "Too shallow for the price.", "Hard to follow, sadly."),
    2: ("Some useful parts, but uneven.", "The pace was too fast for me.", "Needs updating."),
    3: ("Decent overview.", "Good content, average delivery.", "Fine for a refresher."),
    4: ("Clear and practical.", "Very good examples.", "Learned a lot, would recommend."),
    5: ("Excellent course!", "The best course on the topic I have taken.", "Superb teaching."),
}  # fmt: skip

# Reviews lean positive, as on real platforms: weights for 1..5 stars.
RATING_WEIGHTS = (5, 7, 15, 33, 40)
