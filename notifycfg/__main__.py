from notifycfg.cli import run

run()

