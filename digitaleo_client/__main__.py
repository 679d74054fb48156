from digitaleo_client.cli import main

main()
