from learnhub.models.course.catalog_generation import CatalogGeneration
from learnhub.models.course.course import Course, CourseObjective, Tag, course_tags
from learnhub.models.course.quiz import Quiz, QuizOption, QuizQuestion
from learnhub.models.course.section import Section
from learnhub.models.course.video import Video

__all__ = [
    "CatalogGeneration",
    "Course",
    "CourseObjective",
    "Quiz",
    "QuizOption",
    "QuizQuestion",
    "Section",
    "Tag",
    "Video",
    "course_tags",
]
