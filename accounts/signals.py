from django.dispatch import Signal

# Sent inside the transaction that creates a workspace; kwargs: workspace.
workspace_created = Signal()
