# The project's own processes (command service, relay, projector, query service, fan-out) in one image;
# compose.yaml's `app` profile runs each with its own command.
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
EXPOSE 8000 8001
CMD ["python", "-m", "infra", "--help"]
