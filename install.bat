@echo off
rem LDL Studio's installer for Windows: runs installer\install.py with a Python 3.10-3.13 and the same arguments,
rem e.g. "install.bat --all" (see "install.bat --help"). Set PYTHON=C:\path\to\python.exe to choose one.
setlocal
set "HERE=%~dp0"
if defined PYTHON goto :run_given
for %%V in (3.13 3.12 3.11 3.10) do (
  py -%%V -c "import sys" >nul 2>&1
  if not errorlevel 1 (
    set "VERSION=%%V"
    goto :run_launcher
  )
)
python -c "import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))" >nul 2>&1
if not errorlevel 1 (
  set "PYTHON=python"
  goto :run_given
)
echo install.bat: no Python 3.10-3.13 found; install one from python.org, or set PYTHON 1>&2
exit /b 1
:run_launcher
py -%VERSION% "%HERE%installer\install.py" %*
exit /b %errorlevel%
:run_given
"%PYTHON%" "%HERE%installer\install.py" %*
exit /b %errorlevel%
