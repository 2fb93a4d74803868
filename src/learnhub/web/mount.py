"""Mounting the web app on the FastAPI app: its routers, its static files (CSS and JS, served
by the app itself: no CDN, no build step) and its error pages."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from learnhub.config import Settings
from learnhub.media.storage import LocalMediaStorage
from learnhub.web import (
    account,
    account_settings,
    admin,
    admin_audit,
    errors,
    learning,
    pages,
    quizzes,
    reset,
    reviews,
    security,
    studio,
    studio_quizzes,
    studio_teaching,
    studio_videos,
    tutor,
)
from learnhub.web.base import HERE

STATIC_URL = "/static"


def routers() -> list[APIRouter]:
    return [
        pages.router,
        account.router,
        account_settings.router,
        reset.router,
        tutor.router,
        tutor.script_router,
        quizzes.router,
        reviews.router,
        studio.router,
        studio_videos.router,
        studio_quizzes.router,
        studio_teaching.router,
        admin.router,
        admin_audit.router,
        learning.router,
    ]


def install(app: FastAPI, settings: Settings) -> None:
    """After the API's problem handlers (`problems.install`): the web's error pages take over
    on the web's routes only."""
    app.state.csrf_key = security.csrf_key(settings.signing_secret())
    app.state.media_storage = LocalMediaStorage(settings.media_dir)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="static")
    errors.install(app)
