import os

import redis
from dotenv import load_dotenv
from flask import Flask, jsonify
from flask_cors import CORS
from flask_socketio import SocketIO

load_dotenv()
origins = os.environ.get("CORS_ORIGINS", "").split(",")

app = Flask(__name__)
CORS(app, resources={r"/api/*": {"origins": origins, "supports_credentials": True}})
# Socket.IO on its default path, /socket.io/
socketio = SocketIO(app, cors_allowed_origins=origins, async_mode="threading")
cache = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


@app.get("/health")
def health():
    return jsonify(status="healthy", backend_running=True)


@socketio.on("mama_bear_chat")
def chat(data):
    socketio.emit("mama_bear_response", {"echo": data.get("message")})


if __name__ == "__main__":
    socketio.run(app, host="0.0.0.0", port=5000)
