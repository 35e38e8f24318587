"""mkdocs hook: the notebooks in notebooks/ are the tutorial's pages.

The notebooks stay at the top of the repository, where the tests run them; each is
added to the site as notebooks/<name>.ipynb, read from there, before mkdocs-jupyter
picks out the notebooks it renders.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent


@event_priority(100)  # before mkdocs-jupyter's on_files
def on_files(files, config):
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(File(f"notebooks/{path.name}", src_dir=str(ROOT), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    return files
