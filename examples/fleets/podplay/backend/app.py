"""Podplay Sanctuary backend: Flask REST API + Flask-SocketIO on one port."""
import os

from dotenv import load_dotenv
from flask import Flask, jsonify
from flask_cors import CORS
from flask_socketio import SocketIO

load_dotenv()

ORIGINS = os.environ.get("CORS_ORIGINS", "http://localhost:5173").split(",")


def create_app(config_name="default"):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev")
    CORS(
        app,
        resources={
            r"/api/*": {
                "origins": ORIGINS,
                "methods": ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                "allow_headers": ["Content-Type", "Authorization", "X-Requested-With", "Accept", "Origin"],
                "expose_headers": ["Content-Type", "X-Total-Count"],
                "supports_credentials": True,
                "max_age": 600,
            }
        },
    )
    socketio = SocketIO(
        app,
        cors_allowed_origins=ORIGINS,
        async_mode=os.environ.get("SOCKETIO_ASYNC_MODE", "threading"),
        ping_timeout=int(os.environ.get("SOCKETIO_PING_TIMEOUT", 60)),
        ping_interval=int(os.environ.get("SOCKETIO_PING_INTERVAL", 25)),
    )

    @app.get("/health")
    def health():
        return jsonify(status="healthy", backend_running=True)

    @socketio.on("test_event")
    def test_event(data):
        socketio.emit("test_response", {"status": "success", "message": "Test event processed successfully"})

    return app, socketio


if __name__ == "__main__":
    app, socketio = create_app()
    socketio.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", 5000)))
