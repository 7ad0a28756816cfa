from notifycfg.cli.app import run

run()
