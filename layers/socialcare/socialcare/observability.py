"""The one place that builds the Powertools Logger, Tracer and Metrics; every handler imports them."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "socialcare"
NAMESPACE = "SocialCare"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
