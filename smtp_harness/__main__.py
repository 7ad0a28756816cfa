from smtp_harness.cli import main

main(prog_name="smtp-harness")
