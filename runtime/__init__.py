"""What every process of the system imports at start-up: endpoints and namespaces, the deployment profile, logs,
heartbeats, shutdown.

Apart from `infra/` (local operations: starting the backing services, `run`, the demo), so that a service in
production loads none of that tooling. `api_errors` is the error body both HTTP APIs share.
"""
