"""Package list: the library plus every plugin folder (and its data sub-folders), installed as
``neurovision_plugins.<kind>.<id>`` so plugins never take generic top-level names."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
packages = find_packages(include=["neurovision", "neurovision.*"])
package_dir = {}
for kind in ("models", "tasks", "benchmarks"):
    if not (HERE / kind).is_dir():
        continue
    packages.append(f"neurovision_plugins.{kind}")
    package_dir[f"neurovision_plugins.{kind}"] = kind
    for plugin in sorted((HERE / kind).iterdir()):
        if not (plugin / "__init__.py").is_file():
            continue
        folders = [plugin] + sorted(p for p in plugin.rglob("*") if p.is_dir() and p.name != "__pycache__")
        for folder in folders:
            relative = folder.relative_to(HERE / kind)
            name = ".".join(("neurovision_plugins", kind, *relative.parts))
            packages.append(name)
            package_dir[name] = str(folder.relative_to(HERE))

setup(packages=packages, package_dir=package_dir)
