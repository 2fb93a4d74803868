// The player page (issue 16): starts the <video> at the server's start position, and, for an
// enrolled learner, reports heartbeats: the element's own `played` ranges and its current
// position, every few seconds while playing and at once on pause, end and leaving the page.
// The progress shown comes from the server's answer only: nothing here computes progress.
"use strict";

(() => {
  const HEARTBEAT_EVERY_MS = 10000;

  document.addEventListener("DOMContentLoaded", () => {
    const video = document.getElementById("player");
    if (!video) return;

    const start = Number(video.dataset.start || 0);
    const seekToStart = () => {
      if (start > 0 && Number.isFinite(video.duration) && start < video.duration) {
        video.currentTime = start;
      }
    };
    if (video.readyState >= 1) seekToStart();
    else video.addEventListener("loadedmetadata", seekToStart, { once: true });

    const url = video.dataset.heartbeatUrl;
    if (!url) return;
    const token = video.dataset.csrfToken;
    const duration = Number(video.dataset.duration || Infinity);
    const status = document.getElementById("sync-state");
    let timer = null;
    let inFlight = false;
    let again = false;

    // The element's played ranges, as [start, end] pairs the server accepts (a range starting
    // at or past the video's stored length says nothing new and is left out).
    const playedSegments = () => {
      const segments = [];
      for (let i = 0; i < video.played.length; i += 1) {
        const from = video.played.start(i);
        const to = video.played.end(i);
        if (to > from && from < duration) segments.push([from, to]);
      }
      return segments;
    };

    const body = () =>
      JSON.stringify({
        position_seconds: Math.max(0, video.currentTime || 0),
        played_segments: playedSegments(),
      });

    const setProgress = (element, percent) => {
      if (!element) return;
      element.value = percent;
      element.textContent = `${percent}%`;
    };

    const show = (answer) => {
      const mine = answer.course.videos.find((v) => v.video_id === answer.video.video_id);
      if (mine) {
        setProgress(document.getElementById("video-progress"), mine.percent);
        const state = document.getElementById("video-state");
        if (state) {
          state.textContent = mine.completed ? "Completed" : `${Math.round(mine.percent)}% watched`;
        }
      }
      setProgress(document.getElementById("course-progress"), answer.course.percent);
      const course = document.getElementById("course-state");
      if (course) {
        course.textContent =
          `Course ${Math.round(answer.course.percent)}% complete` +
          (answer.course.completed ? ": completed" : "");
      }
      for (const item of answer.course.videos) {
        const row = document.querySelector(`[data-outline-video="${item.video_id}"]`);
        if (!row) continue;
        setProgress(row.querySelector("progress"), item.percent);
        const label = row.querySelector(".item-state");
        if (label) label.textContent = item.completed ? "Completed" : `${Math.round(item.percent)}%`;
      }
    };

    const say = (text) => {
      if (status) status.textContent = text;
    };

    const send = async (leaving = false) => {
      if (inFlight && !leaving) {
        again = true;
        return;
      }
      inFlight = true;
      try {
        const response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          keepalive: leaving, // outlives the page when it is being left
          redirect: "manual",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
          body: body(),
        });
        if (leaving) return;
        if (response.type === "opaqueredirect" || response.status === 401) {
          say("Your session has ended: log in again to keep recording your progress.");
        } else if (!response.ok) {
          say("Your progress could not be saved just now; it will be sent again.");
        } else {
          show(await response.json());
          say(video.paused ? "Progress saved." : "");
        }
      } catch (error) {
        if (!leaving) say("Your progress could not be saved just now; it will be sent again.");
      } finally {
        inFlight = false;
        if (again) {
          again = false;
          send();
        }
      }
    };

    const stopTimer = () => {
      if (timer !== null) window.clearInterval(timer);
      timer = null;
    };

    video.addEventListener("play", () => {
      send(); // the first heartbeat starts the server's real-time budget
      stopTimer();
      timer = window.setInterval(() => send(), HEARTBEAT_EVERY_MS);
    });
    video.addEventListener("pause", () => {
      stopTimer();
      send();
    });
    video.addEventListener("ended", () => {
      stopTimer();
      send();
    });
    window.addEventListener("pagehide", () => {
      stopTimer();
      if (video.played.length) send(true);
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden" && video.played.length) send(true);
    });
  });
})();
