# The fixture, for runs with the package on PYTHONPATH only (an installed package registers it
# through its pytest11 entry point, and pytest refuses a plugin registered twice).
import importlib.metadata

try:
    importlib.metadata.distribution("tunedhttp-serve")
except importlib.metadata.PackageNotFoundError:
    pytest_plugins = ["tunedhttp_serve.pytest_plugin"]
