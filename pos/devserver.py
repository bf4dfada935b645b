"""`make run`: the web app on the embedded defaults, with the address and the demo logins."""
import os

from pos import create_app

DEMO_LOGINS = [
    ("moderator", "модератор (все организации)"),
    ("zhkh.coordinator", "координатор, Министерство ЖКХ"),
    ("zhkh.executor", "исполнитель, Министерство ЖКХ"),
    ("zhkh.head1", "руководитель (согласует), Министерство ЖКХ"),
    ("zhkh.minister", "руководитель (утверждает), Министерство ЖКХ"),
    ("zhkh.curator", "куратор, Министерство ЖКХ"),
    ("transport.coordinator", "координатор, Минтранс"),
    ("tynda.coordinator", "координатор, Администрация г. Тынды"),
    ("analyst", "аналитик ЦУР"),
    ("admin", "администратор"),
    ("citizen", "заявитель-гражданин"),
    ("company", "заявитель — юридическое лицо"),
]


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    app = create_app()
    print(f"\nПОС работает: http://{host}:{port}/")
    print("Демо-пользователи (пароль у всех: demo):")
    for login, who in DEMO_LOGINS:
        print(f"  {login:<24} {who}")
    print("Остановить: Ctrl-C\n", flush=True)
    app.run(host=host, port=port, debug=False, use_reloader=False)


if __name__ == "__main__":
    main()
