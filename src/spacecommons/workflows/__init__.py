"""Jobs that the CLI and the service both run, written once: interfaces -> workflows -> storage/core."""
