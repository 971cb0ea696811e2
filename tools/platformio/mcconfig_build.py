# PlatformIO extra script (SCons): build the firmware with Moddable's mcconfig and upload its images with esptool.
# PlatformIO has no Moddable integration, so this adds two targets instead of replacing PlatformIO's own build:
#   pio run -e <env> -t mcbuild     -> mcconfig -m -p <custom_mcconfig_platform> [-d|-i] <custom_mcconfig_args>
#   pio run -e <env> -t mcupload    -> mcbuild, then esptool write_flash of bootloader, partition table and app
import os
import shlex
import subprocess

Import("env")  # noqa: F821 (provided by SCons)

PROJECT_DIR = env.subst("$PROJECT_DIR")
APP_DIR = os.path.join(PROJECT_DIR, "hosts", "esp32")
APP_NAME = os.path.basename(APP_DIR)  # mcconfig names the output folder after the app folder
# The bootloader sits at 0x1000 on the original ESP32 and at 0x0 on the S3/C3 family.
BOOTLOADER_OFFSET = {"esp32": "0x1000"}
BUILD_FLAGS = {"debug": ["-d"], "instrument": ["-i"], "release": []}


def option(name, default=""):
    return env.GetProjectOption(name, default)


def moddable_dir():
    moddable = os.environ.get("MODDABLE")
    if not moddable:
        raise SystemExit("mcconfig_build: MODDABLE is not set (install the Moddable SDK, see README 'ESP32')")
    return moddable


def image_dir():
    platform = option("custom_mcconfig_platform", "esp32")
    kind = option("custom_mcconfig_build", "instrument")
    subplatform = platform.split("/")[1] if "/" in platform else None
    parts = [moddable_dir(), "build", "bin", "esp32"] + ([subplatform] if subplatform else []) + [kind, APP_NAME]
    return os.path.join(*parts)


def mcbuild(*_args, **_kwargs):
    kind = option("custom_mcconfig_build", "instrument")
    if kind not in BUILD_FLAGS:
        raise SystemExit("mcconfig_build: custom_mcconfig_build must be debug, instrument or release")
    cmd = ["mcconfig", "-m", "-p", option("custom_mcconfig_platform", "esp32")] + BUILD_FLAGS[kind]
    cmd += shlex.split(option("custom_mcconfig_args", ""))
    print("mcconfig_build: " + " ".join(shlex.quote(c) for c in cmd if "password=" not in c and "prov_secret=" not in c))
    subprocess.check_call(cmd, cwd=APP_DIR)


def mcupload(*_args, **_kwargs):
    mcbuild()
    images = image_dir()
    platform = option("custom_mcconfig_platform", "esp32")
    chip = platform.split("/")[1] if "/" in platform else "esp32"
    port = env.subst("$UPLOAD_PORT") or None
    # The espressif32 platform points $UPLOADER at its bundled esptool.py; fall back to an installed esptool module.
    uploader = env.subst("$UPLOADER")
    esptool = [uploader] if uploader.endswith(".py") else ["-m", "esptool"]
    cmd = [env.subst("$PYTHONEXE")] + esptool + ["--chip", chip, "--baud", env.subst("$UPLOAD_SPEED") or "921600"]
    if port:
        cmd += ["--port", port]
    cmd += ["write_flash", "-z",
            BOOTLOADER_OFFSET.get(chip, "0x0"), os.path.join(images, "bootloader.bin"),
            "0x8000", os.path.join(images, "partition-table.bin"),
            "0x10000", os.path.join(images, "xs_esp32.bin")]
    print("mcconfig_build: " + " ".join(shlex.quote(c) for c in cmd))
    subprocess.check_call(cmd)


env.AddCustomTarget(name="mcbuild", dependencies=None, actions=[mcbuild], title="mcbuild",
                    description="Build the firmware with Moddable's mcconfig")
env.AddCustomTarget(name="mcupload", dependencies=None, actions=[mcupload], title="mcupload",
                    description="Build with mcconfig, then flash bootloader, partition table and app with esptool")
