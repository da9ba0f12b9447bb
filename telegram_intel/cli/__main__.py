from telegram_intel.cli.main import main

main()
