# The Winkelpunt image: one image for every role (api, worker, beat, migrate); docker-compose.yml picks the
# command. Build: docker build -t winkelpunt .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user with a fixed uid, so volume permissions are predictable.
RUN groupadd --system --gid 10001 winkelpunt \
    && useradd --system --uid 10001 --gid winkelpunt --home-dir /app --shell /usr/sbin/nologin winkelpunt

# Install the package (and its dependencies: all have manylinux wheels, so no compiler is needed). The
# migrations ship inside the package, so nothing of the source tree is needed at run time.
WORKDIR /src
COPY . .
RUN pip install . \
    && rm -rf /src

# The working directory holds var/ (Celery beat's schedule file); it is the only writable path.
WORKDIR /app
RUN mkdir -p /app/var && chown winkelpunt:winkelpunt /app/var
USER winkelpunt

EXPOSE 8000
CMD ["retail", "serve", "--host", "0.0.0.0"]
