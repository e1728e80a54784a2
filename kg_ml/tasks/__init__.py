"""Task definitions: data, loss and evaluation of each finetuning task (one module per task)."""
