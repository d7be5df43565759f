"""The tasks the harness runs, by name. A task is one object: the dataset it reads, how its
answers are generated, how a finished accuracy run is scored, and its command.

Adding a task: a module beside these defining one `Task`, and one line in TASKS
(docs/DESIGN.md, "Where to change what", has a worked example).
"""

from __future__ import annotations

from harness.tasks.cnn import CNN_DAILYMAIL
from harness.tasks.mmlu import MMLU
from harness.tasks.task import Task

TASKS: dict[str, Task] = {task.name: task for task in (CNN_DAILYMAIL, MMLU)}

__all__ = ["TASKS", "Task"]
